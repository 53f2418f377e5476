/**
 * Signing-key rotation without downtime (issue 5 item 2; docs/security.md #37), on an injected clock:
 * a new key is published `publish_ahead` before it signs, tokens signed before a rotation keep
 * verifying until they expire, a verifier that cached the JWKS (within its max-age) accepts the
 * new key's tokens, retired keys leave once their tokens have expired, and a deleted key's tokens
 * are refused. Several instances on one database agree on the active key.
 */
import type { ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { decodeJwtUnverified, type VerificationKey, verifyJwt } from '@gatehouse/sdk/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, manualClock } from '../support/basic.js';
import { spawnServer, waitForExit } from '../support/cli.js';
import { createTestDatabase, storeKinds, tempDir } from '../support/databases.js';
import { startTestServer, TEST_MASTER_KEY, type TestServer } from '../support/server.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const alice = { username: 'alice', password: 'correct horse battery staple', scopes: ['read'] };

type Jwk = { kid: string; alg: string; kty: string };

/** A verifier that holds one JWKS snapshot, as a service with a cached key set does. */
function cachedVerifier(jwks: { keys: Jwk[] }, issuer: string, now: () => number) {
  const keys = new Map<string, VerificationKey>(
    jwks.keys.map((jwk) => [
      jwk.kid,
      { kid: jwk.kid, alg: jwk.alg as 'ES256', key: createPublicKey({ key: jwk as never, format: 'jwk' }) },
    ]),
  );
  return async (token: string) =>
    verifyJwt(token, (kid) => keys.get(kid), { issuer, audience: issuer, types: ['at+jwt'], now });
}

describe.each(storeKinds())('signing-key rotation on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    await createUser(server, alice);
  });
  afterAll(async () => server?.stop());

  const jwks = async () => {
    const response = await fetch(`${server.publicUrl}/.well-known/jwks.json`);
    return { body: (await response.json()) as { keys: Jwk[] }, cacheControl: response.headers.get('cache-control') };
  };
  const login = async () => {
    const response = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: alice.password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const kidOf = (token: string) => (decodeJwtUnverified(token) as unknown as { header: { kid: string } }).header.kid;
  const verify = (token: string) =>
    fetch(`${server.publicUrl}/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
  const keys = async () =>
    (await server.admin('GET', '/admin/v1/signing-keys')).body.data as Array<Record<string, any>>;

  it('rotates on schedule: publish ahead, switch, keep the old key until its tokens expire', async () => {
    const start = clock.now();
    const initial = await jwks();
    expect(initial.body.keys).toHaveLength(1);
    const first = initial.body.keys[0] as Jwk;
    // The advertised cache lifetime is shorter than publish_ahead (1 day).
    expect(initial.cacheControl).toBe('public, max-age=600');
    expect(kidOf(await login())).toBe(first.kid);

    // rotate_every (30 d) − publish_ahead (1 d): the next key is published, not signing yet.
    clock.set(start + 29 * DAY + 1000);
    const published = await jwks();
    expect(published.body.keys.map((key) => key.kid)).toHaveLength(2);
    const second = published.body.keys.find((key) => key.kid !== first.kid) as Jwk;
    expect(kidOf(await login())).toBe(first.kid);
    const listed = await keys();
    expect(listed.map((key) => [key.kid, key.state])).toEqual([
      [second.kid, 'next'],
      [first.kid, 'active'],
    ]);
    // Due at 30 d, but never sooner than publish_ahead after publication.
    expect(listed[0]?.activates_at).toBe(new Date(start + 30 * DAY + 1000).toISOString());

    // A verifier caches the JWKS now, and does not refetch for the rest of the test.
    const cached = cachedVerifier(published.body, server.publicUrl, clock.now);

    // One minute before the switch: a token signed by the first key.
    clock.set(start + 30 * DAY - MINUTE);
    const before = await login();
    expect(kidOf(before)).toBe(first.kid);

    // After the switch: new tokens carry the new kid.
    clock.set(start + 30 * DAY + MINUTE);
    const after = await login();
    expect(kidOf(after)).toBe(second.kid);
    // The old token keeps verifying until it expires; the cached verifier accepts the new one.
    expect((await verify(before)).status).toBe(200);
    expect((await verify(after)).status).toBe(200);
    expect((await cached(after)).ok).toBe(true);
    expect((await cached(before)).ok).toBe(true);
    const states = await keys();
    expect(states.find((key) => key.kid === first.kid)?.state).toBe('retired');
    expect(states.find((key) => key.kid === second.kid)?.state).toBe('active');
    expect((await jwks()).body.keys.map((key) => key.kid)).toContain(first.kid);

    // Past the old token's expiry (15 min + 30 s leeway after the switch): expired, then gone.
    // The switch happened at +1 min (when an instance first looked); the retired key stays for the
    // token lifetime (15 min) + leeway (30 s) after it.
    clock.set(start + 30 * DAY + 17 * MINUTE);
    const expired = await verify(before);
    expect(expired.status).toBe(401);
    expect((await jwks()).body.keys.map((key) => key.kid)).not.toContain(first.kid);
    expect((await keys()).map((key) => key.kid)).not.toContain(first.kid);

    await server.running.services.audit.flush();
    const events = await server.admin('GET', '/admin/v1/audit-events?action=signing_key.*&limit=20');
    // Retire and activate happen in the same instant: compare the steps, not their order.
    const actions = events.body.data.map((event: { action: string }) => event.action).sort();
    expect(actions).toEqual([
      'signing_key.activated',
      'signing_key.created',
      'signing_key.created',
      'signing_key.deleted',
      'signing_key.retired',
    ]);
  });

  it('rotates by hand: scheduled after publish_ahead, or at once for a compromised key', async () => {
    const active = (await keys()).find((key) => key.state === 'active') as Record<string, string>;
    const scheduled = await server.admin('POST', '/admin/v1/signing-keys/rotate', {});
    expect(scheduled.status).toBe(200);
    const next = scheduled.body.data.find((key: { state: string }) => key.state === 'next');
    expect(Date.parse(next.activates_at) - clock.now()).toBe(DAY);
    // Still signing with the active key.
    expect(kidOf(await login())).toBe(active.kid);

    const before = await login();
    // `--now` right after a scheduled rotation: a key generated now signs, not the pending one
    // (docs/jwt.md); the old key verifies its tokens until they expire, the pending key is gone.
    const immediate = await server.admin('POST', '/admin/v1/signing-keys/rotate', { immediate: true });
    expect(immediate.status).toBe(200);
    const states = immediate.body.data.map((key: { kid: string; state: string }) => [key.kid, key.state]);
    const now = immediate.body.data.find((key: { state: string }) => key.state === 'active');
    expect(now.kid).not.toBe(next.kid);
    expect(now.kid).not.toBe(active.kid);
    expect(states).toContainEqual([active.kid, 'retired']);
    expect(states.map(([kid]: [string]) => kid)).not.toContain(next.kid);
    expect(states.filter(([, state]: [string, string]) => state === 'next')).toEqual([]);
    expect(kidOf(await login())).toBe(now.kid);
    expect((await verify(before)).status).toBe(200);
    expect((await jwks()).body.keys.map((key) => key.kid)).not.toContain(next.kid);
    // And again: each `--now` is a fresh key.
    const again = await server.admin('POST', '/admin/v1/signing-keys/rotate', { immediate: true });
    const newest = again.body.data.find((key: { state: string }) => key.state === 'active');
    expect(newest.kid).not.toBe(now.kid);
    expect(kidOf(await login())).toBe(newest.kid);
    const bad = await server.admin('POST', '/admin/v1/signing-keys/rotate', { now: true });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('now');
  });

  it('refuses tokens signed by a retired-and-deleted key (compromise), at once on this instance', async () => {
    const token = await login();
    const kid = kidOf(token);
    expect((await verify(token)).status).toBe(200);
    const retired = await server.admin('POST', `/admin/v1/signing-keys/${kid}/retire`, { delete: true });
    expect(retired.status).toBe(200);
    expect(retired.body.data.map((key: { kid: string }) => key.kid)).not.toContain(kid);
    const refused = await verify(token);
    expect(refused.status).toBe(401);
    expect(server.logs.join('')).toContain('ERR_JWT_UNKNOWN_KID');
    // Something signs again, with another key.
    expect(kidOf(await login())).not.toBe(kid);
    expect((await jwks()).body.keys.map((key) => key.kid)).not.toContain(kid);

    expect((await server.admin('POST', `/admin/v1/signing-keys/${kid}/retire`, {})).status).toBe(404);
    expect((await server.admin('POST', '/admin/v1/signing-keys/..%2Fetc/retire', {})).status).toBe(400);
  });
});

describe.each(storeKinds())('several gatehouse processes on one %s store', (kind) => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  const urls: Array<{ public: string; admin: string }> = [];
  let drop: () => Promise<void> = async () => {};
  const adminKey = `gh_admin_${'x'.repeat(40)}`;

  beforeAll(async () => {
    const database = await createTestDatabase(kind, dir.path);
    drop = database.drop;
    const env = {
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
      GATEHOUSE_ADMIN_KEY: adminKey,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_ADMIN_PORT: '0',
    };
    const start = () =>
      spawnServer([], { env }).then((started) => {
        children.push(started.child);
        urls.push({ public: String(started.ready.public), admin: String(started.ready.admin) });
      });
    // PostgreSQL instances start at the same moment on an empty store (both try to create the
    // first key); SQLite processes start one after the other, as the embedded store expects.
    if (kind === 'postgres') await Promise.all([start(), start()]);
    else {
      await start();
      await start();
    }
  });
  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGTERM');
      await waitForExit(child);
    }
    await drop();
    dir.remove();
  });

  const admin = (base: string, method: string, route: string, body?: unknown) =>
    fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (response) => ({ status: response.status, body: await response.json() }));

  it('agree on one active key, and concurrent rotations create one next key', async () => {
    const [a, b] = urls as [{ public: string; admin: string }, { public: string; admin: string }];
    const jwksOf = async (base: string) =>
      ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Jwk[] }).keys;
    const keysA = await jwksOf(a.public);
    expect(keysA).toHaveLength(1);
    expect(await jwksOf(b.public)).toEqual(keysA);

    const answers = await Promise.all([
      admin(a.admin, 'POST', '/admin/v1/signing-keys/rotate', {}),
      admin(b.admin, 'POST', '/admin/v1/signing-keys/rotate', {}),
      admin(a.admin, 'POST', '/admin/v1/signing-keys/rotate', {}),
      admin(b.admin, 'POST', '/admin/v1/signing-keys/rotate', {}),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const listA = (await admin(a.admin, 'GET', '/admin/v1/signing-keys')).body.data as Array<{
      kid: string;
      state: string;
    }>;
    const listB = (await admin(b.admin, 'GET', '/admin/v1/signing-keys')).body.data as Array<{
      kid: string;
      state: string;
    }>;
    expect(listA.map((key) => key.state)).toEqual(['next', 'active']);
    expect(listB).toEqual(listA);
  });
});
