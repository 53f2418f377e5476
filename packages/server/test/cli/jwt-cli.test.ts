/**
 * The JWT commands as a user runs them (the built CLI as a child process, against a real server):
 * `keys list|rotate|retire`, `token login` (password on stdin), `token decode`, `token verify`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { runCli } from '../support/cli.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const alice = {
  username: 'alice',
  password: 'correct horse battery staple',
  scopes: ['read', 'write'],
};

describe.each(storeKinds())('gatehouse keys and token commands on %s', (kind) => {
  let server: TestServer;
  let aliceId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    aliceId = (await createUser(server, alice)).id;
  });
  afterAll(async () => server?.stop());

  const admin = () => ['--admin-url', server.adminUrl, '--admin-key', server.adminKey];

  it('lists, rotates and retires keys', async () => {
    const listed = await runCli(['keys', 'list', ...admin()]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^KID +ALG +STATE +SINCE \/ UNTIL\n\S+ +ES256 +active +signing since /);

    const rotated = await runCli(['keys', 'rotate', ...admin(), '--json']);
    expect(rotated.code).toBe(0);
    const keys = JSON.parse(rotated.stdout).data as Array<{ kid: string; state: string }>;
    expect(keys.map((key) => key.state)).toEqual(['next', 'active']);

    const retired = await runCli(['keys', 'retire', (keys[1] as { kid: string }).kid, ...admin(), '--json']);
    expect(retired.code).toBe(0);
    const after = JSON.parse(retired.stdout).data as Array<{ kid: string; state: string }>;
    expect(after.map((key) => key.state)).toEqual(['active', 'retired']);
    expect(after[0]?.kid).toBe(keys[0]?.kid);

    const missing = await runCli(['keys', 'retire', 'no-such-kid', ...admin()]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('no signing key no-such-kid');
  });

  it('`keys rotate --now` right after `keys rotate` signs with a fresh key, not the pending one', async () => {
    const scheduled = JSON.parse((await runCli(['keys', 'rotate', ...admin(), '--json'])).stdout).data as Array<{
      kid: string;
      state: string;
    }>;
    const pending = scheduled.find((key) => key.state === 'next')?.kid;
    const active = scheduled.find((key) => key.state === 'active')?.kid;
    const now = await runCli(['keys', 'rotate', '--now', ...admin(), '--json']);
    expect(now.code).toBe(0);
    const after = JSON.parse(now.stdout).data as Array<{ kid: string; state: string }>;
    const signing = after.find((key) => key.state === 'active')?.kid;
    expect([pending, active]).not.toContain(signing);
    expect(after.map((key) => key.kid)).not.toContain(pending);
    expect(after.find((key) => key.kid === active)?.state).toBe('retired');
  });

  it('takes a kid that begins with a dash, as one RFC 7638 thumbprint in 64 does', async () => {
    // Commander reads such a word as an option; the kid must reach the server all the same.
    const dashed = await runCli(['keys', 'retire', '-Zb3xYzQ', ...admin()]);
    expect(dashed.stderr).toContain('no signing key -Zb3xYzQ');
    expect(dashed.code).toBe(5);
    // With a flag of `gatehouse` itself at its head too (-V is --version before the command).
    const versionLike = await runCli(['keys', 'retire', '-Vb3xYzQ', '--delete', ...admin()]);
    expect(versionLike.stderr).toContain('no signing key -Vb3xYzQ');
    expect(versionLike.code).toBe(5);

    // A mistyped option is still refused as one, beside the kid or alone, and sent nowhere.
    const [beside, before, alone] = await Promise.all([
      runCli(['keys', 'retire', 'some-kid', '--delet', ...admin()]),
      runCli(['keys', 'retire', '--delet', 'some-kid', ...admin()]),
      runCli(['keys', 'retire', '--delete=yes', ...admin()]),
    ]);
    for (const [result, option] of [
      [beside, '--delet'],
      [before, '--delet'],
      [alone, '--delete=yes'],
    ] as const) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`error: unknown option '${option}'`);
    }
    // After `--`, any word is the kid.
    const escaped = await runCli(['keys', 'retire', ...admin(), '--', '--delete']);
    expect(escaped.stderr).toContain('no signing key --delete');
    expect(escaped.code).toBe(5);
    const excess = await runCli(['keys', 'retire', 'one', 'two', ...admin()]);
    expect(excess.code).toBe(2);
    expect(excess.stderr).toContain("too many arguments for 'retire'. Expected 1 argument but got 2.");
  });

  it('logs in with the password on stdin, decodes and verifies the token', async () => {
    const login = await runCli(['token', 'login', '--username', 'alice', '--url', server.publicUrl], {
      input: `${alice.password}\n`,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const response = JSON.parse(login.stdout);
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read write' });

    const decoded = await runCli(['token', 'decode', response.access_token]);
    expect(decoded.code).toBe(0);
    expect(decoded.stdout).toMatch(/^UNVERIFIED: /);
    expect(decoded.stdout).toContain(`"${aliceId}"`);

    const verified = await runCli(['token', 'verify', response.access_token, '--url', server.publicUrl]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^valid: signature \(ES256, kid /);

    const wrongAudience = await runCli([
      'token',
      'verify',
      response.access_token,
      '--url',
      server.publicUrl,
      '--audience',
      'https://elsewhere.example',
    ]);
    expect(wrongAudience.code).toBe(1);
    expect(wrongAudience.stderr).toBe(
      'gatehouse: invalid token: ERR_JWT_AUDIENCE: The token is not meant for this audience\n',
    );
    const [header, payload] = response.access_token.split('.');
    const forged = await runCli(['token', 'verify', `${header}.${payload}.AAAA`, '--url', server.publicUrl]);
    expect(forged.stderr).toBe('gatehouse: invalid token: ERR_JWT_SIGNATURE: The signature does not verify\n');
    const garbage = await runCli(['token', 'decode', 'not-a-token']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('ERR_JWT_MALFORMED');
  });

  it('says why a login fails, without echoing the password', async () => {
    const wrong = await runCli(['token', 'login', '--username', 'alice', '--url', server.publicUrl], {
      input: 'not the password\n',
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toBe('gatehouse: login failed: 401 The username or password is wrong\n');
    expect(wrong.stdout + wrong.stderr).not.toContain('not the password');
    const down = await runCli(['token', 'login', '--username', 'alice', '--url', 'http://127.0.0.1:9'], {
      input: 'x\n',
    });
    expect(down.code).toBe(3);
  });
});
