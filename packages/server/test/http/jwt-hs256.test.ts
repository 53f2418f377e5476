/**
 * The shared-secret setup (keys.algorithm HS256): tokens are HS256 under the configured secret,
 * /auth/verify accepts them, and the secret never appears in the JWKS (issue 5 item 1, 3;
 * docs/security.md #25).
 */
import { createHmac } from 'node:crypto';
import { decodeJwtUnverified } from '@gatehouse/sdk/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'f'.repeat(16) + '0123456789abcdef'.repeat(3);
const alice = { username: 'alice', password: 'correct horse battery staple', scopes: ['read'] };

describe.each(storeKinds())('HS256 tokens on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, {
      env: { GATEHOUSE_KEYS_ALGORITHM: 'HS256', GATEHOUSE_KEYS_HS256_SECRET: SECRET },
    });
    await createUser(server, alice);
  });
  afterAll(async () => server?.stop());

  it('signs with the configured secret and keeps it out of the JWKS', async () => {
    const response = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: alice.password }),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const decoded = decodeJwtUnverified(token);
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.header).toMatchObject({ alg: 'HS256', typ: 'at+jwt', kid: expect.stringMatching(/^hs256-/) });
    // A service holding the same secret can check it with nothing but an HMAC.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const mac = createHmac('sha256', Buffer.from(SECRET, 'hex')).update(`${header}.${payload}`).digest('base64url');
    expect(mac).toBe(signature);

    const verified = await fetch(`${server.publicUrl}/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    expect(verified.status).toBe(200);

    const jwks = await (await fetch(`${server.publicUrl}/.well-known/jwks.json`)).text();
    expect(jwks).not.toContain(decoded.header.kid as string);
    expect(jwks).not.toContain('"oct"');
    expect(jwks).not.toContain('"k"');
    expect(jwks).not.toContain(Buffer.from(SECRET, 'hex').toString('base64url'));
    expect(server.logs.join('')).not.toContain(SECRET);
  });
});
