/**
 * createVerifier against a real local issuer over HTTP: discovery, the identity, typed errors with
 * their RFC 6750 code and ERR_JWT_* code, the verified-token cache (never past exp, dropped with
 * its key), unknown-kid refetches (once, rate-limited), rotation, and option checks.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  type KeySetEvent,
  requireScopes,
  type Verifier,
} from '../src/index.js';
import { startIssuer, type TestIssuer } from './support/issuer.js';
import { refusal } from './support/refusal.js';

let issuer: TestIssuer;
let now: number;
const clock = () => now;

beforeEach(async () => {
  issuer = await startIssuer();
  now = Date.now();
});
afterEach(async () => issuer.close());

const verifierFor = (extra: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier =>
  createVerifier({ issuer: issuer.url, audience: issuer.audience, clock, ...extra });

/** Resolves when the `n`th event of a type has been recorded (polling the list on each event loop turn). */
async function nextEvent(events: KeySetEvent[], type: KeySetEvent['type'], n: number): Promise<void> {
  while (events.filter((event) => event.type === type).length < n)
    await new Promise((resolve) => setImmediate(resolve));
}

describe('createVerifier', () => {
  it('discovers the JWKS from the issuer metadata and returns the identity', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign({ scope: 'orders:read orders:write', client_id: 'cli_web', team: 'blue' });
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({
      subject: 'usr_alice',
      method: 'jwt',
      scopes: ['orders:read', 'orders:write'],
      clientId: 'cli_web',
    });
    expect(identity.credentialId).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity.claims.team).toBe('blue');
    expect(issuer.count('/.well-known/openid-configuration')).toBe(1);
    expect(issuer.count('/jwks')).toBe(1);
  });

  it('falls back to Gatehouse’s /.well-known/jwks.json when the issuer publishes no metadata', async () => {
    issuer.metadata = false;
    const verifier = verifierFor();
    await verifier.verify(await issuer.sign());
    expect(issuer.count('/.well-known/oauth-authorization-server')).toBe(1);
    expect(issuer.count('/.well-known/jwks.json')).toBe(1);
  });

  it('refuses metadata naming another issuer (RFC 8414 §3.3; docs/security.md #25) and fails closed', async () => {
    issuer.handlers.set('/.well-known/openid-configuration', () => ({
      status: 200,
      body: { issuer: 'https://evil.example', jwks_uri: `${issuer.url}/jwks` },
    }));
    const error = await refusal(verifierFor().verify(await issuer.sign()));
    expect(error.status).toBe(503);
    expect(error.code).toBe('ERR_DISCOVERY_ISSUER_MISMATCH');
    expect(issuer.count('/jwks')).toBe(0);
  });

  it('throws typed errors carrying the RFC 6750 code and the ERR_JWT_* code', async () => {
    const verifier = verifierFor();
    const expired = await issuer.sign({}, { now: now - 3_600_000 });
    const error = await refusal(verifier.verify(expired));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'ERR_JWT_EXPIRED' });
    expect(error.description).toBe('The access token expired');

    const [h, p] = (await issuer.sign()).split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    expect(await refusal(verifier.verify(forged))).toMatchObject({
      code: 'ERR_JWT_SIGNATURE',
      error: 'invalid_token',
    });
    // The caller is not told which check failed, except expiry (docs/security.md #34: generic errors).
    expect((await refusal(verifier.verify(forged))).description).toBe('The access token is invalid');

    const otherAudience = await issuer.sign({ aud: 'https://other.example' });
    expect(await refusal(verifier.verify(otherAudience))).toMatchObject({ code: 'ERR_JWT_AUDIENCE' });
    const idToken = await issuer.sign({}, { header: { typ: 'JWT' } });
    expect(await refusal(verifier.verify(idToken))).toMatchObject({ code: 'ERR_JWT_TYPE' });
  });

  it('requires scopes with 403 insufficient_scope naming what is missing', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign({ scope: 'orders:read' });
    await expect(verifier.verify(token, { scopes: ['orders:read'] })).resolves.toMatchObject({ subject: 'usr_alice' });
    const error = await refusal(verifier.verify(token, { scopes: ['orders:read', 'orders:write'] }));
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error).toMatchObject({ status: 403, error: 'insufficient_scope', missing: ['orders:write'] });
    // The same answer from the cache.
    await expect(verifier.verify(token, { scopes: ['admin'] })).rejects.toBeInstanceOf(InsufficientScopeError);
    const identity = await verifier.verify(token);
    expect(() => requireScopes(identity, 'orders:read')).not.toThrow();
    expect(() => requireScopes(identity, 'admin')).toThrow(InsufficientScopeError);
  });

  it('rejects a token that is not a string, with the cache warm, rather than throwing', async () => {
    const verifier = verifierFor();
    await verifier.verify(await issuer.sign()); // the cache holds an entry
    for (const odd of [undefined, null, 42, ['a.b.c'], {}]) {
      let settled: Promise<unknown> | undefined;
      expect(() => {
        settled = verifier.verify(odd as never);
      }).not.toThrow();
      await expect(settled).rejects.toThrow('verify(token) needs a string');
    }
  });

  it('answers a repeated token from the cache, but never past its exp', async () => {
    const verifier = verifierFor({ leewaySeconds: 0 });
    const token = await issuer.sign();
    const first = await verifier.verify(token);
    // The JWKS endpoint goes away: a cached token needs no key.
    issuer.jwksMode = 'error';
    expect(await verifier.verify(token)).toBe(first);
    now += 299_000;
    expect(await verifier.verify(token)).toBe(first);
    now += 1000; // exactly exp
    expect(await refusal(verifier.verify(token))).toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('freezes identities, so one request cannot change what the next one sees from the cache', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign({ scope: 'read', nested: { roles: ['user'] } });
    const identity = await verifier.verify(token);
    expect(() => (identity.scopes as string[]).push('admin')).toThrow(TypeError);
    expect(() => ((identity.claims.nested as { roles: string[] }).roles as string[]).push('admin')).toThrow(TypeError);
    expect(() => Object.assign(identity, { subject: 'usr_mallory' })).toThrow(TypeError);
    expect((await verifier.verify(token)).scopes).toEqual(['read']);
  });

  it('refetches the JWKS once for an unknown kid, then at most once per cooldown (a kid flood cannot hammer the issuer)', async () => {
    const verifier = verifierFor({ jwksCooldown: 30_000 });
    await verifier.verify(await issuer.sign());
    expect(issuer.count('/jwks')).toBe(1);
    // A new key appears (rotation): a token signed with it triggers one refetch and verifies.
    const next = await issuer.newKey('EdDSA');
    issuer.published.push(next);
    now += 30_000;
    const rotated = await verifier.verify(await issuer.sign({}, { key: next, now }));
    expect(rotated.subject).toBe('usr_alice');
    expect(issuer.count('/jwks')).toBe(2);

    // 1000 tokens with random kids, concurrently and then in sequence: no further fetch within the cooldown.
    const attacker = await issuer.newKey('ES256');
    const forged = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => issuer.sign({}, { key: attacker, header: { kid: `random-${i}` }, now })),
    );
    const results = await Promise.allSettled(forged.map((token) => verifier.verify(token)));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_JWT_UNKNOWN_KID' });
    expect(issuer.count('/jwks')).toBe(2);
    // After the cooldown, one more fetch for the whole concurrent burst.
    now += 30_000;
    await Promise.allSettled(forged.slice(0, 500).map((token) => verifier.verify(token)));
    expect(issuer.count('/jwks')).toBe(3);
  });

  it('drops cached tokens whose key left the JWKS (a retired-and-deleted key)', async () => {
    const events: KeySetEvent[] = [];
    const verifier = verifierFor({ onEvent: (event) => events.push(event) });
    const refreshed = nextEvent(events, 'jwks_refreshed', 2);
    const old = issuer.published[0];
    const token = await issuer.sign();
    await verifier.verify(token);
    const next = await issuer.newKey();
    issuer.published.splice(0, 1, next);
    // The set is refreshed after its max-age (600 s); the refresh runs in the background.
    now += 601_000;
    await verifier.verify(await issuer.sign({}, { key: next, now })); // an unknown kid: refetched at once
    await refreshed;
    const error = await refusal(verifier.verify(await issuer.sign({}, { key: old, now })));
    expect(error.code).toBe('ERR_JWT_UNKNOWN_KID');
    // The old token, signed by the old key, is not answered from the cache either.
    expect((await refusal(verifier.verify(token))).code).toMatch(/ERR_JWT_(UNKNOWN_KID|EXPIRED)/);
    expect(events.some((event) => event.type === 'jwks_refreshed' && !event.kids.includes(old?.kid as string))).toBe(
      true,
    );
  });

  it('honours the JWKS Cache-Control max-age, never longer than jwksCacheMaxAge', async () => {
    issuer.jwksCacheControl = 'public, max-age=60';
    const events: KeySetEvent[] = [];
    const verifier = verifierFor({ onEvent: (event) => events.push(event) });
    const refreshed = nextEvent(events, 'jwks_refreshed', 2);
    const token = await issuer.sign();
    await verifier.verify(token);
    now += 59_000;
    await verifier.verify(await issuer.sign({}, { now }));
    expect(issuer.count('/jwks')).toBe(1);
    now += 2000;
    // Stale: answered from the cached keys at once, refreshed in the background.
    await verifier.verify(await issuer.sign({}, { now }));
    await refreshed;
    expect(issuer.count('/jwks')).toBe(2);
    // A server max-age above jwksCacheMaxAge is capped.
    issuer.jwksCacheControl = 'max-age=86400';
    const cappedEvents: KeySetEvent[] = [];
    const capped = verifierFor({
      jwksCacheMaxAge: 10_000,
      jwksCooldown: 1000,
      onEvent: (event) => cappedEvents.push(event),
    });
    await capped.ready();
    now += 9999;
    await capped.verify(await issuer.sign({}, { now }));
    expect(issuer.count('/jwks')).toBe(3);
    now += 1;
    await capped.verify(await issuer.sign({}, { now }));
    await nextEvent(cappedEvents, 'jwks_refreshed', 2);
    expect(issuer.count('/jwks')).toBe(4);
  });

  it('checks its options at construction, naming the option', () => {
    expect(() => createVerifier({ issuer: issuer.url } as never)).toThrow(/audience is required/);
    expect(() => createVerifier({ issuer: 'http://auth.example.com', audience: 'a' })).toThrow(/allowHttp/);
    expect(() => createVerifier({ issuer: 'http://auth.example.com', audience: 'a', allowHttp: true })).not.toThrow();
    expect(() => createVerifier({ issuer: issuer.url, audience: 'a', leewaySeconds: 3600 })).toThrow(/leewaySeconds/);
    expect(() => createVerifier({ issuer: issuer.url, audience: 'a', accept: ['saml' as never] })).toThrow(/accept/);
    expect(() => createVerifier({ issuer: issuer.url, audience: 'a', jwksUri: 'https://x/jwks', secret: 'x' })).toThrow(
      /not both/,
    );
  });

  it('verifies with static keys and an HS256 secret without fetching anything', async () => {
    const key = issuer.published[0];
    const verifier = verifierFor({ keys: { keys: [key?.publicJwk as never] } });
    await expect(verifier.verify(await issuer.sign())).resolves.toMatchObject({ subject: 'usr_alice' });
    expect(issuer.count('/jwks')).toBe(0);
    expect(() => verifierFor({ secret: 'too-short' })).not.toThrow(); // reported at first use…
    await expect(verifierFor({ secret: 'too-short' }).ready()).rejects.toThrow(/at least 32 bytes/);
  });
});
