/**
 * Starting on an existing store: what is ours is reused, what is not ours is refused and left
 * untouched, a wrong master key is detected, and several instances can start at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, storeKinds, tempDir } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('embedded store (SQLite)', () => {
  it('refuses a file that is not a SQLite database and leaves it untouched', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const file = path.join(dir.path, 'gatehouse.db');
    writeFileSync(file, 'these are somebody else’s notes, not a database\n'.repeat(100));
    const before = digest(file);
    await expect(startTestServer('sqlite', { dataDir: dir.path, databaseUrl: `sqlite:${file}` })).rejects.toThrow(
      `${file} is not a SQLite database (corrupt or foreign file); it was left untouched`,
    );
    expect(digest(file)).toBe(before);
  });

  it('refuses a SQLite database of another program and leaves it untouched', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const file = path.join(dir.path, 'other.db');
    const other = new SQLite(file);
    other.exec('create table invoices (id integer primary key, total real); insert into invoices values (1, 9.5);');
    other.close();
    const before = digest(file);
    await expect(startTestServer('sqlite', { dataDir: dir.path, databaseUrl: `sqlite:${file}` })).rejects.toThrow(
      `${file} is a SQLite database of another program (tables: invoices); it was left untouched`,
    );
    expect(digest(file)).toBe(before);
  });

  it('refuses a corrupt SQLite database (valid header, garbage after it)', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const file = path.join(dir.path, 'corrupt.db');
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\u0000', 'latin1'), Buffer.alloc(4096, 0xab)]));
    const before = digest(file);
    await expect(startTestServer('sqlite', { dataDir: dir.path, databaseUrl: `sqlite:${file}` })).rejects.toThrow(
      /cannot be used as a Gatehouse database .*left untouched/,
    );
    expect(digest(file)).toBe(before);
  });

  it('generates master.key and admin.key with mode 0600 and a store only its owner can read', async () => {
    const server = await startTestServer('sqlite');
    cleanups.push(() => server.stop());
    for (const name of ['master.key', 'admin.key', 'gatehouse.db']) {
      const { statSync } = await import('node:fs');
      expect((statSync(path.join(server.dataDir, name)).mode & 0o777).toString(8), name).toBe('600');
    }
    expect(readFileSync(path.join(server.dataDir, 'master.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(server.logs.join('')).toContain('generated a master key for the embedded store');
  });
});

describe.each(storeKinds())('restarts and keys on %s', (kind) => {
  it('keeps the admin key valid across restarts and prints it only the first time', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const database = await createTestDatabase(kind, dir.path);
    cleanups.push(() => database.drop());
    const first = await startTestServer(kind, { dataDir: dir.path, databaseUrl: database.url });
    expect(first.announcements.join('')).toContain(first.adminKey);
    expect(first.adminKey).toMatch(/^gh_admin_[0-9A-Za-z]{43}$/);
    await first.stop();

    const second = await startTestServer(kind, { dataDir: dir.path, databaseUrl: database.url });
    cleanups.push(() => second.stop());
    expect(second.announcements).toEqual([]);
    expect(second.adminKey).toBe(first.adminKey);
    expect((await second.admin('GET', '/admin/v1/status')).status).toBe(200);
  });

  it('detects a master key that is not the one the store was created with', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const database = await createTestDatabase(kind, dir.path);
    cleanups.push(() => database.drop());
    const first = await startTestServer(kind, {
      dataDir: dir.path,
      databaseUrl: database.url,
      masterKey: '1'.repeat(64),
    });
    await first.stop();
    await expect(
      startTestServer(kind, { dataDir: dir.path, databaseUrl: database.url, masterKey: '2'.repeat(64) }),
    ).rejects.toThrow('the master key does not match the one this store was created with');
    // The right key still works: nothing was overwritten.
    const again = await startTestServer(kind, {
      dataDir: dir.path,
      databaseUrl: database.url,
      masterKey: '1'.repeat(64),
    });
    await again.stop();
  });

  it('lets a preset admin key replace the generated one', async () => {
    const preset = 'preset-admin-key-0123456789-abcdefghijkl';
    const server = await startTestServer(kind, { env: { GATEHOUSE_ADMIN_KEY: preset } });
    cleanups.push(() => server.stop());
    expect(server.announcements).toEqual([]);
    expect(server.adminKey).toBe(preset);
    expect((await server.admin('GET', '/admin/v1/status')).status).toBe(200);
  });
});

describe.runIf(peer('postgres').present)('PostgreSQL', () => {
  it('requires a master key', async () => {
    const database = await createTestDatabase('postgres');
    cleanups.push(() => database.drop());
    const dir = tempDir();
    cleanups.push(dir.remove);
    const { loadConfig } = await import('../../src/config/load.js');
    const { startGatehouse } = await import('../../src/server.js');
    const { createLogger } = await import('../../src/logging.js');
    const { config } = loadConfig({
      env: {
        GATEHOUSE_DATABASE_URL: database.url,
        GATEHOUSE_DATA_DIR: dir.path,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_ADMIN_PORT: '0',
      },
    });
    await expect(
      startGatehouse({ config, logger: createLogger({ log: { level: 'silent', format: 'json' } }) }),
    ).rejects.toThrow('master_key: required with PostgreSQL');
  });

  it('lets several instances start at once on one database: one migrates, one admin key is made', async () => {
    const database = await createTestDatabase('postgres');
    cleanups.push(() => database.drop());
    const dirs = [tempDir(), tempDir(), tempDir()];
    for (const dir of dirs) cleanups.push(dir.remove);
    const results = await Promise.allSettled(
      dirs.map((dir) => startTestServer('postgres', { dataDir: dir.path, databaseUrl: database.url })),
    );
    const servers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    for (const server of servers) cleanups.push(() => server.stop());
    expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    const announced = servers.filter((server: TestServer) => server.announcements.length > 0);
    expect(announced).toHaveLength(1);
    const key = (announced[0] as TestServer).adminKey;
    for (const server of servers) {
      const response = await fetch(`${server.adminUrl}/admin/v1/status`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(response.status).toBe(200);
    }
  });
});
