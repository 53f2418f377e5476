/**
 * `gatehouse user import --htpasswd`: a file made by the real Apache `htpasswd -B` (Debian
 * apache2-utils) imports, its users log in, and their stored hash becomes argon2id at the first
 * login; weaker formats are refused naming the line. On every store.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, verify } from '../support/basic.js';
import { runCli } from '../support/cli.js';
import { storeKinds, tempDir } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const htpasswd = (...args: string[]) => execFileSync('htpasswd', args, { stdio: ['ignore', 'pipe', 'pipe'] });

describe.runIf(peer('htpasswd').present).each(storeKinds())('htpasswd import on %s', (kind) => {
  let server: TestServer;
  let env: Record<string, string>;
  let dir: { path: string; remove(): void };
  beforeAll(async () => {
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true' } });
    env = { GATEHOUSE_ADMIN_URL: server.adminUrl, GATEHOUSE_ADMIN_KEY: server.adminKey };
    dir = tempDir('gatehouse-htpasswd-');
  });
  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  const cli = (args: string[]) => runCli(['user', ...args], { env });
  const storedHash = async (username: string) =>
    (
      await server.running.services.store.db
        .selectFrom('users')
        .select('password_hash')
        .where('username', '=', username)
        .executeTakeFirstOrThrow()
    ).password_hash;

  it('imports bcrypt users made by htpasswd -B; they log in, and their hash becomes argon2id', async () => {
    const file = path.join(dir.path, 'bcrypt.htpasswd');
    htpasswd('-cbB', file, 'Anna', 'anna password');
    htpasswd('-bB', '-C', '10', file, 'ben', 'bén-pässword:with:colons');
    htpasswd('-bB', file, 'cleo', 'x'.repeat(80)); // bcrypt reads 72 bytes; we never truncate
    expect(readFileSync(file, 'utf8')).toMatch(/^Anna:\$2y\$05\$/m);

    const imported = await cli(['import', '--htpasswd', file, '--scopes', 'legacy']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^imported anna \(usr_\w+\)$/m);
    expect(imported.stdout).toMatch(/3 imported, 0 skipped/);

    const anna = JSON.parse((await cli(['show', 'anna', '--json'])).stdout);
    expect(anna).toMatchObject({
      password_scheme: 'bcrypt',
      scopes: ['legacy'],
      metadata: { imported_from: 'htpasswd' },
    });
    expect(await storedHash('anna')).toMatch(/^\$2y\$05\$/);

    expect((await verify(server.publicUrl, { authorization: basicHeader('anna', 'anna passworD') })).status).toBe(401);
    expect(await storedHash('anna')).toMatch(/^\$2y\$/);
    const login = await verify(server.publicUrl, { authorization: basicHeader('ANNA', 'anna password') });
    expect(login.status).toBe(200);
    expect(login.headers.get('x-auth-scopes')).toBe('legacy');
    expect(await storedHash('anna')).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(JSON.parse((await cli(['show', 'anna', '--json'])).stdout).password_scheme).toBe('argon2id');
    // Still the same password after the upgrade, now checked with argon2id.
    server.running.services.basicCache.invalidateUser(anna.id);
    expect((await verify(server.publicUrl, { authorization: basicHeader('anna', 'anna password') })).status).toBe(200);

    expect(
      (await verify(server.publicUrl, { authorization: basicHeader('ben', 'bén-pässword:with:colons') })).status,
    ).toBe(200);
    expect(await storedHash('ben')).toMatch(/^\$argon2id\$/);

    // 80 bytes: bcrypt would compare only 72, so Gatehouse refuses rather than truncate.
    expect((await verify(server.publicUrl, { authorization: basicHeader('cleo', 'x'.repeat(80)) })).status).toBe(401);
    expect(await storedHash('cleo')).toMatch(/^\$2y\$/);

    await server.running.services.audit.flush();
    const rehashed = await server.admin(
      'GET',
      `/admin/v1/audit-events?action=user.password_rehashed&target=${anna.id}`,
    );
    expect(rehashed.body.data[0]).toMatchObject({ actor: 'system', details: { from: 'bcrypt', to: 'argon2id' } });
  });

  it('refuses MD5-crypt, SHA-1, crypt and plain text, naming each line, and imports nothing', async () => {
    const file = path.join(dir.path, 'mixed.htpasswd');
    htpasswd('-cbB', file, 'good', 'good-password');
    htpasswd('-bm', file, 'md5user', 'password');
    htpasswd('-bs', file, 'shauser', 'password');
    htpasswd('-bd', file, 'cryptuser', 'password');
    appendFileSync(file, '# a comment\n\nplainuser:plaintext-password\n');
    const result = await cli(['import', '--htpasswd', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'line 2 (md5user) uses MD5-crypt ($apr1$, htpasswd -m), which is too weak to import',
    );
    expect(result.stderr).toContain('line 3 (shauser) uses SHA-1 ({SHA}, htpasswd -s)');
    expect(result.stderr).toContain('line 4 (cryptuser) uses DES crypt (htpasswd -d)');
    expect(result.stderr).toContain('line 7 (plainuser) has an unrecognised or plain-text password field');
    expect(result.stderr).not.toContain('plaintext-password');
    expect((await cli(['show', 'good'])).code).toBe(5);
  });

  it('refuses a file naming an existing user unless --skip-existing, and duplicate users within the file', async () => {
    const file = path.join(dir.path, 'again.htpasswd');
    htpasswd('-cbB', file, 'anna', 'whatever-password');
    htpasswd('-bB', file, 'dina', 'dina-password');
    const clash = await cli(['import', '--htpasswd', file]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/409 these users exist already .*line 1 \(anna\)/);
    const skipped = await cli(['import', '--htpasswd', file, '--skip-existing']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/skipped anna: exists \(line 1\)/);
    expect(skipped.stdout).toMatch(/1 imported, 1 skipped/);

    const twice = path.join(dir.path, 'twice.htpasswd');
    writeFileSync(twice, `${readFileSync(file, 'utf8').split('\n')[1]}\n`.replace('dina', 'Erik'));
    appendFileSync(twice, readFileSync(twice, 'utf8').replace('Erik', 'ERIK'));
    const duplicate = await cli(['import', '--htpasswd', twice]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/line 2 \(ERIK\): the same user as line 1/);
    expect((await cli(['import', '--htpasswd', path.join(dir.path, 'missing')])).stderr).toMatch(
      /cannot read .*missing \(ENOENT\)/,
    );
  });
});
