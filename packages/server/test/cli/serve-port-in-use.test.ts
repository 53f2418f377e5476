/**
 * `gatehouse serve` on a port in use (issue 14 item 5): a precise error naming the port and the
 * listener, a non-zero exit, and a fresh data dir left without a master key, admin key or
 * database. Guarantee: a failed start writes no secret nobody will ever be shown.
 */
import { existsSync, readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/databases.js';

describe('gatehouse serve on a port in use', () => {
  const dir = tempDir();
  let busy: net.Server;
  let port: number;
  beforeAll(async () => {
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    dir.remove();
  });

  /** Nothing but (at most) the empty data dir itself. */
  const expectNothingWritten = (dataDir: string) => {
    if (existsSync(dataDir)) expect(readdirSync(dataDir)).toEqual([]);
  };

  const serve = (dataDir: string, env: Record<string, string>) =>
    runCli(['serve'], {
      env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_HOST: '127.0.0.1', GATEHOUSE_LOG_FORMAT: 'json', ...env },
    });

  it('names the public port, exits 1 and writes no key', async () => {
    const dataDir = path.join(dir.path, 'public');
    const result = await serve(dataDir, { GATEHOUSE_PORT: String(port), GATEHOUSE_ADMIN_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `gatehouse: cannot listen on 127.0.0.1:${port} for the public listener (public.port): the address is already in use`,
    );
    expect(result.stderr).not.toContain('admin key');
    expect(result.stdout).not.toContain('generated a master key');
    expectNothingWritten(dataDir);
  });

  it('names the admin port the same way', async () => {
    const dataDir = path.join(dir.path, 'admin');
    const result = await serve(dataDir, { GATEHOUSE_PORT: '0', GATEHOUSE_ADMIN_PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port} for the admin listener (admin.port)`);
    expectNothingWritten(dataDir);
  });

  it('catches two listeners configured on one free port before writing anything', async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: found } = probe.address() as AddressInfo;
        probe.close(() => resolve(found));
      });
    });
    const dataDir = path.join(dir.path, 'same');
    const result = await serve(dataDir, { GATEHOUSE_PORT: String(free), GATEHOUSE_ADMIN_PORT: String(free) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${free} for the admin listener (admin.port)`);
    expectNothingWritten(dataDir);
  });
});
