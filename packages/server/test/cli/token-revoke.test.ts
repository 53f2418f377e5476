/**
 * `gatehouse token revoke` (issue 14 item 5), the built CLI against a real server: a token from
 * /auth/login that /auth/verify accepts is refused once revoked by jti; revoking a subject refuses
 * every token of that user and leaves other users' alone. Exactly one selector, precise errors,
 * `--json` for scripts. Guarantee: a revocation made from the CLI takes effect at once.
 */
import { decodeJwtUnverified } from '@gatehouse/sdk/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { runCli } from '../support/cli.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const password = 'correct horse battery staple';

describe.each(storeKinds())('gatehouse token revoke on %s', (kind) => {
  let server: TestServer;
  let aliceId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    aliceId = (await createUser(server, { username: 'alice', password, scopes: ['read'] })).id;
    await createUser(server, { username: 'bob', password, scopes: ['read'] });
  });
  afterAll(async () => server?.stop());

  const admin = () => ['--admin-url', server.adminUrl, '--admin-key', server.adminKey];
  const login = async (username: string) => {
    const response = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const verify = async (token: string) =>
    (await fetch(`${server.publicUrl}/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status;
  const jtiOf = (token: string) => {
    const decoded = decodeJwtUnverified(token);
    if (!decoded.ok) throw new Error('not a JWT');
    return decoded.claims.jti as string;
  };

  it('revokes one token by jti: /auth/verify refuses it, the user’s other tokens still pass', async () => {
    const [token, other] = [await login('alice'), await login('alice')];
    expect(await verify(token)).toBe(200);
    const revoked = await runCli(['token', 'revoke', '--jti', jtiOf(token), ...admin()]);
    expect(revoked.stderr).toBe('');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked the access token with jti ${jtiOf(token)}\n`);
    expect(await verify(token)).toBe(401);
    expect(await verify(other)).toBe(200);
  });

  it('revokes every token of a subject, and no one else’s (--json)', async () => {
    const aliceTokens = [await login('alice'), await login('alice')];
    const bobToken = await login('bob');
    for (const token of [...aliceTokens, bobToken]) expect(await verify(token)).toBe(200);
    const revoked = await runCli(['token', 'revoke', '--subject', aliceId, '--json', ...admin()]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({
      revoked: { kind: 'subject', value: aliceId },
      refresh_tokens_revoked: expect.any(Number),
    });
    for (const token of aliceTokens) expect(await verify(token)).toBe(401);
    expect(await verify(bobToken)).toBe(200);
  });

  it('revokes by client, in words', async () => {
    const revoked = await runCli(['token', 'revoke', '--client', 'no-such-client', ...admin()]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(
      'revoked every access token of client no-such-client issued until now, and 0 refresh tokens\n',
    );
  });

  it('needs exactly one selector, and says so precisely (exit 2, nothing sent)', async () => {
    const none = await runCli(['token', 'revoke', ...admin()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('gatehouse: say what to revoke: pass one of --jti, --subject or --client\n');
    const two = await runCli(['token', 'revoke', '--jti', 'x', '--subject', aliceId, ...admin()]);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe('gatehouse: pass only one of --jti, --subject or --client (got --jti and --subject)\n');
    const empty = await runCli(['token', 'revoke', '--jti', ' ', ...admin(), '--json']);
    expect(empty.code).toBe(2);
    expect(JSON.parse(empty.stderr)).toEqual({
      error: { code: 'usage', message: '--jti needs a value', exit_code: 2 },
    });
    const tooLong = await runCli(['token', 'revoke', '--jti', 'x'.repeat(300), ...admin(), '--json']);
    expect(tooLong.code).toBe(2);
    expect(JSON.parse(tooLong.stderr).error).toMatchObject({ code: 'validation-failed', status: 400 });
    const badKey = await runCli([
      'token',
      'revoke',
      '--jti',
      'x',
      '--admin-url',
      server.adminUrl,
      '--admin-key',
      'nope',
    ]);
    expect(badKey.code).toBe(4);
    expect(badKey.stderr).toMatch(/^gatehouse: the admin API refused the admin key: 401 /);
  });
});
