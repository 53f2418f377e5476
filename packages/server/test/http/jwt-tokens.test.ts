/**
 * Login, access tokens, refresh rotation with reuse detection, logout, revocation and the JWT
 * authenticator, black-box over HTTP on every store (issue 5; docs/security.md #7–#12, #17, #19, #33).
 */
import { createPublicKey } from 'node:crypto';
import { decodeJwtUnverified, verifyJwt } from '@gatehouse/sdk/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, manualClock } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

const alice = {
  username: 'alice',
  password: 'correct horse battery staple',
  scopes: ['orders:read', 'orders:write', 'profile'],
  metadata: { team: 'payments', plan: { tier: 'gold' }, email: 'alice@example.test' },
};
const bob = { username: 'bob', password: 'another long password', scopes: ['orders:read'] };
const carol = { username: 'carol', password: 'carol has a password', scopes: [] };

describe.each(storeKinds())('JWT tokens on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer(kind, {
      clock,
      env: {
        GATEHOUSE_TOKENS_CLAIMS: JSON.stringify({ team: 'metadata.team', tier: 'metadata.plan.tier', email: 'email' }),
        GATEHOUSE_TOKENS_AUDIENCES: 'https://orders.example.test',
      },
    });
    // Real users, through the admin API (argon2id passwords, the real throttle).
    for (const user of [alice, bob, carol]) ids[user.username] = (await createUser(server, user)).id;
  });
  afterAll(async () => server?.stop());

  const login = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const loginAs = async (user: { username: string; password: string }, extra: Record<string, string> = {}) => {
    const response = await login({ username: user.username, password: user.password, ...extra });
    expect(response.status).toBe(200);
    return (await response.json()) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
      scope: string;
    };
  };
  const verify = (token: string, query = '') =>
    fetch(`${server.publicUrl}/auth/verify${query}`, { headers: { authorization: `Bearer ${token}` } });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.publicUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('logs in with JSON and answers an RFC 9068 access token that /auth/verify accepts', async () => {
    const response = await login({ username: 'alice', password: alice.password });
    expect(response.status).toBe(200);
    // docs/security.md #19: token responses are never cached.
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = await response.json();
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^ghr_[0-9A-Za-z]{43}$/),
      scope: 'orders:read orders:write profile',
    });
    const decoded = decodeJwtUnverified(body.access_token);
    if (!decoded.ok) throw new Error(decoded.message);
    // RFC 9068 §2.1: typ at+jwt and a kid.
    expect(decoded.header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
    const now = Math.floor(clock.now() / 1000);
    // docs/security.md #9: iss exp aud sub client_id iat jti; plus nbf, scope and mapped claims.
    expect(decoded.claims).toEqual({
      iss: server.publicUrl,
      sub: ids.alice,
      aud: server.publicUrl,
      exp: now + 900,
      iat: now,
      nbf: now,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/),
      client_id: 'gatehouse-login',
      scope: 'orders:read orders:write profile',
      team: 'payments',
      tier: 'gold',
      email: 'alice@example.test',
    });

    const verified = await verify(body.access_token);
    expect(verified.status).toBe(200);
    expect(verified.headers.get('x-auth-method')).toBe('jwt');
    expect(verified.headers.get('x-auth-subject')).toBe(ids.alice);
    expect(verified.headers.get('x-auth-client-id')).toBe('gatehouse-login');
    expect(verified.headers.get('x-auth-scopes')).toBe('orders:read orders:write profile');
    // The repeated token comes from the verified-token cache, with the same answer.
    expect((await verify(body.access_token)).status).toBe(200);
  });

  it('logs in with a form body and with an Authorization: Basic header', async () => {
    const form = await login(`username=bob&password=${encodeURIComponent(bob.password)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect((await form.json()).scope).toBe('orders:read');
    const basic = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`bob:${bob.password}`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    const repeated = await login(`username=bob&username=alice&password=x`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(repeated.status).toBe(400);
    expect((await repeated.json()).errors[0].field).toBe('username');
    const both = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`bob:${bob.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ username: 'bob', password: bob.password }),
    });
    expect(both.status).toBe(400);
  });

  it('answers the same 401 for an unknown user and a wrong password (docs/security.md #33)', async () => {
    const unknown = await login({ username: 'mallory', password: 'whatever-password' });
    const wrong = await login({ username: 'alice', password: 'not her password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe('Basic realm="gatehouse", charset="UTF-8"');
    const [a, b] = [await unknown.json(), await wrong.json()];
    expect({ ...a, request_id: 0 }).toEqual({ ...b, request_id: 0 });
    expect(a.type).toBe('urn:gatehouse:problem:invalid-credentials');
    const missing = await login({ username: 'alice' });
    expect(missing.status).toBe(400);
    expect((await missing.json()).errors[0].field).toBe('password');
    const extra = await login({ username: 'alice', password: 'x', admin: true });
    expect(extra.status).toBe(400);
    expect((await extra.json()).errors[0].field).toBe('admin');
    const badBasic = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { authorization: 'Basic !!!notbase64' },
    });
    expect(badBasic.status).toBe(401);
  });

  it('throttles repeated failures with 429 and Retry-After', async () => {
    let throttled: Response | undefined;
    for (let i = 0; i < 30 && !throttled; i++) {
      const response = await login({ username: 'carol', password: `wrong ${i}` });
      if (response.status === 429) throttled = response;
      else expect(response.status).toBe(401);
    }
    expect(throttled?.status).toBe(429);
    expect(Number(throttled?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right password waits (docs/security.md #32).
    expect((await login({ username: 'carol', password: carol.password })).status).toBe(429);
  });

  it('narrows scope on request, refuses scopes the user lacks, and issues for allowed audiences only', async () => {
    const narrowed = await loginAs(alice, { scope: 'orders:read' });
    expect(narrowed.scope).toBe('orders:read');
    const escalate = await login({ username: 'alice', password: alice.password, scope: 'orders:read admin' });
    expect(escalate.status).toBe(400);
    expect((await escalate.json()).errors[0]).toEqual({ field: 'scope', message: 'not granted to this user: admin' });
    const orders = await loginAs(alice, { audience: 'https://orders.example.test' });
    expect((decodeJwtUnverified(orders.access_token) as unknown as { claims: { aud: string } }).claims.aud).toBe(
      'https://orders.example.test',
    );
    const elsewhere = await login({ username: 'alice', password: alice.password, audience: 'https://evil.example' });
    expect(elsewhere.status).toBe(400);
    expect((await elsewhere.json()).errors[0].field).toBe('audience');
  });

  it('answers 403 insufficient_scope when the token lacks a required scope (docs/security.md #11)', async () => {
    const token = (await loginAs(alice, { scope: 'orders:read' })).access_token;
    expect((await verify(token, '?scope=orders:read')).status).toBe(200);
    const denied = await verify(token, '?scope=orders:write');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="orders:write"');
  });

  it('refuses an invalid token with 401 Bearer error="invalid_token" (docs/security.md #11)', async () => {
    const token = (await loginAs(alice)).access_token;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // Verified once, so cached: the cache finds entries by signature, and must not answer for
    // another token carrying the same signature.
    expect((await verify(token)).status).toBe(200);
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: ids.bob })).toString('base64url')}.${signature}`;
    const response = await verify(tampered);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="gatehouse", error="invalid_token", error_description="The access token is invalid"',
    );
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid' });
    expect(server.logs.join('')).toContain('ERR_JWT_SIGNATURE');
    // No credential: a challenge without an error code (RFC 6750 §3.1), one per enabled mechanism.
    const none = await fetch(`${server.publicUrl}/auth/verify`);
    expect(none.headers.get('www-authenticate')).toBe(
      'ApiKey realm="gatehouse", header="x-api-key", Bearer realm="gatehouse", Basic realm="gatehouse", charset="UTF-8"',
    );
    // The cached token spelled otherwise: padding, or characters outside base64url (some allowed
    // by RFC 6750's b64token, some not) — refused as malformed, never matched to the cached one.
    for (const spelling of [
      `${token}=`,
      `${header}.${payload}~.${signature}`,
      `${token}!`,
      `${header}+.${payload}.${signature}`,
    ]) {
      const odd = await verify(spelling);
      expect(odd.status, spelling.slice(-8)).toBe(401);
      expect(await odd.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid' });
    }
    expect(server.logs.join('')).toContain('ERR_JWT_MALFORMED');
    // A 10 KB token is refused before decoding (docs/security.md #12); 1 MB never reaches us (431).
    const large = await verify(`${header}.${'A'.repeat(10_000)}.${signature}`);
    expect(large.status).toBe(401);
    expect((await large.json()).error_description).toBe('The access token is too large');
    const huge = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [['authorization', `Bearer ${header}.${'A'.repeat(1_048_576)}.${signature}`]],
    });
    expect(huge.status).toBe(431);
  });

  it('expires access tokens on the injected clock, with the configured leeway', async () => {
    const token = (await loginAs(bob)).access_token;
    clock.advance(900_000 + 29_000);
    expect((await verify(token)).status).toBe(200);
    clock.advance(2_000);
    const expired = await verify(token);
    expect(expired.status).toBe(401);
    expect((await expired.json()).error_description).toBe('The access token expired');
    clock.advance(-931_000);
  });

  it('rotates refresh tokens on every use and revokes the family on reuse (RFC 9700 §4.14)', async () => {
    const first = await loginAs(alice, { scope: 'orders:read profile' });
    const second = await post('/auth/refresh', { refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    const rotated = await second.json();
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    // Scope never widens on refresh.
    expect(rotated.scope).toBe('orders:read profile');
    expect((await verify(rotated.access_token)).status).toBe(200);

    // The old refresh token is presented again: reuse. The whole family goes, access tokens too.
    const reused = await post('/auth/refresh', { refresh_token: first.refresh_token });
    expect(reused.status).toBe(400);
    expect((await reused.json()).type).toBe('urn:gatehouse:problem:invalid-refresh-token');
    const successor = await post('/auth/refresh', { refresh_token: rotated.refresh_token });
    expect(successor.status).toBe(400);
    const revokedAccess = await verify(rotated.access_token);
    expect(revokedAccess.status).toBe(401);
    expect((await revokedAccess.json()).error_description).toBe('The access token has been revoked');
    await server.running.services.audit.flush();
    const events = await server.admin('GET', '/admin/v1/audit-events?action=refresh_token.family_revoked');
    expect(events.body.data[0].details).toMatchObject({ reason: 'refresh_token_reused', subject: ids.alice });
  });

  it('refuses unknown, malformed and expired refresh tokens alike', async () => {
    for (const refresh_token of ['ghr_' + 'x'.repeat(43), 'nonsense', 'ghr_short']) {
      const response = await post('/auth/refresh', { refresh_token });
      expect(response.status).toBe(400);
      expect((await response.json()).type).toBe('urn:gatehouse:problem:invalid-refresh-token');
    }
    const { refresh_token } = await loginAs(bob);
    clock.advance(7 * 86_400_000 + 1000); // idle expiry (default 7d)
    expect((await post('/auth/refresh', { refresh_token })).status).toBe(400);
    clock.advance(-(7 * 86_400_000 + 1000));
  });

  it('stops refreshing for a user who was disabled', async () => {
    const { refresh_token } = await loginAs(bob);
    expect((await server.admin('POST', `/admin/v1/users/${ids.bob}/disable`)).status).toBe(200);
    try {
      expect((await post('/auth/refresh', { refresh_token })).status).toBe(400);
    } finally {
      expect((await server.admin('POST', `/admin/v1/users/${ids.bob}/enable`)).status).toBe(200);
    }
  });

  it('logs out: the refresh family and the presented access token are revoked', async () => {
    const tokens = await loginAs(alice);
    const out = await post(
      '/auth/logout',
      { refresh_token: tokens.refresh_token },
      {
        authorization: `Bearer ${tokens.access_token}`,
      },
    );
    expect(out.status).toBe(204);
    expect((await post('/auth/refresh', { refresh_token: tokens.refresh_token })).status).toBe(400);
    expect((await verify(tokens.access_token)).status).toBe(401);
    // Unknown tokens get the same answer.
    expect((await post('/auth/logout', { refresh_token: 'ghr_unknown' })).status).toBe(204);
  });

  it('revokes access tokens by jti, subject and client through the admin API', async () => {
    const one = await loginAs(alice);
    const two = await loginAs(alice);
    const other = await loginAs(bob);
    const jti = (decodeJwtUnverified(one.access_token) as unknown as { claims: { jti: string } }).claims.jti;
    // Warm the verified-token cache: revocation must drop the entry.
    expect((await verify(one.access_token)).status).toBe(200);
    const byJti = await server.admin('POST', '/admin/v1/tokens/revoke', { jti });
    expect(byJti).toMatchObject({ status: 200, body: { revoked: { kind: 'jti', value: jti } } });
    expect((await verify(one.access_token)).status).toBe(401);
    expect((await verify(two.access_token)).status).toBe(200);

    const bySubject = await server.admin('POST', '/admin/v1/tokens/revoke', { subject: ids.alice });
    expect(bySubject.status).toBe(200);
    expect(bySubject.body.refresh_tokens_revoked).toBeGreaterThan(0);
    expect((await verify(two.access_token)).status).toBe(401);
    expect((await post('/auth/refresh', { refresh_token: two.refresh_token })).status).toBe(400);
    expect((await verify(other.access_token)).status).toBe(200);
    // Tokens issued after the revocation are good again (a later second: iat > revoked_at).
    clock.advance(1000);
    expect((await verify((await loginAs(alice)).access_token)).status).toBe(200);

    const byClient = await server.admin('POST', '/admin/v1/tokens/revoke', { client_id: 'gatehouse-login' });
    expect(byClient.status).toBe(200);
    expect((await verify(other.access_token)).status).toBe(401);
    clock.advance(1000);

    for (const body of [{}, { jti: 'a', subject: 'b' }, { token: 'x' }]) {
      const bad = await server.admin('POST', '/admin/v1/tokens/revoke', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    await server.running.services.audit.flush();
    const audit = await server.admin('GET', '/admin/v1/audit-events?action=token.revoked');
    expect(audit.body.data.length).toBe(3);
  });

  it('publishes only public key members with a Cache-Control consistent with publish_ahead (docs/security.md #25)', async () => {
    const response = await fetch(`${server.publicUrl}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=600');
    const { keys } = await response.json();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(createPublicKey({ key, format: 'jwk' }).type).toBe('public');
    }
    // A verifier holding only the JWKS accepts our token (the shared core as an outside verifier).
    const token = (await loginAs(bob)).access_token;
    const byKid = new Map(
      keys.map((key: { kid: string; alg: 'ES256' }) => [
        key.kid,
        { kid: key.kid, alg: key.alg, key: createPublicKey({ key: key as never, format: 'jwk' }) },
      ]),
    );
    const result = await verifyJwt(token, (kid) => byKid.get(kid) as never, {
      issuer: server.publicUrl,
      audience: server.publicUrl,
      types: ['at+jwt'],
      now: clock.now,
    });
    expect(result.ok).toBe(true);
  });

  it('never logs passwords, access tokens or refresh tokens (docs/security.md #34)', async () => {
    const tokens = await loginAs(alice);
    await verify(tokens.access_token);
    await post('/auth/refresh', { refresh_token: tokens.refresh_token });
    const logs = server.logs.join('');
    expect(logs).not.toContain(alice.password);
    expect(logs).not.toContain(tokens.access_token.split('.')[2]);
    expect(logs).not.toContain(tokens.refresh_token);
  });
});
