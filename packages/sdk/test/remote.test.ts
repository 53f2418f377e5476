/**
 * Credentials only the issuer can judge — API keys, Basic, opaque tokens — verified through a real
 * local issuer over HTTP (`/auth/verify` with the credential's header forwarded, or RFC 7662
 * introspection with client credentials): the identity, the TTL cache keyed by a hash, request
 * coalescing (1000 concurrent requests with one new key → one call), brief negative caching, and
 * failing closed when the issuer fails.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVerifier,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
  RateLimitedError,
  VerifierUnavailableError,
} from '../src/index.js';
import { type RecordedRequest, startIssuer, type TestIssuer } from './support/issuer.js';
import { refusal } from './support/refusal.js';

let issuer: TestIssuer;
let now: number;
const clock = () => now;
const GOOD_KEY = 'gk_4Xw9aZ0bC1dE2fG3hI4jK5lM6nO7pQ8rS9tU0vW1xY2';

/** Answers like Gatehouse's /auth/verify: identity headers on 200, RFC 6750 JSON otherwise. */
function gatehouseVerify(request: RecordedRequest): {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
} {
  const key = request.headers['x-api-key'] ?? String(request.headers.authorization ?? '').replace(/^Bearer /, '');
  if (key === GOOD_KEY) {
    return {
      status: 200,
      headers: {
        'x-auth-subject': 'usr_bob',
        'x-auth-method': 'apikey',
        'x-auth-scopes': 'orders:read',
        'x-auth-client-id': 'key_1',
      },
    };
  }
  if (request.headers.authorization === `Basic ${Buffer.from('bob:correct horse').toString('base64')}`) {
    return { status: 200, headers: { 'x-auth-subject': 'usr_bob', 'x-auth-method': 'basic', 'x-auth-scopes': '' } };
  }
  return {
    status: 401,
    headers: { 'www-authenticate': 'ApiKey realm="gatehouse", header="x-api-key", error="invalid_token"' },
    body: { error: 'invalid_token', error_description: 'The API key is not valid' },
  };
}

beforeEach(async () => {
  issuer = await startIssuer();
  issuer.handlers.set('/auth/verify', gatehouseVerify);
  now = Math.floor(Date.now() / 1000) * 1000;
});
afterEach(async () => issuer.close());

const verifierFor = (extra: Partial<Parameters<typeof createVerifier>[0]> = {}) =>
  createVerifier({
    issuer: issuer.url,
    audience: issuer.audience,
    clock,
    accept: ['jwt', 'apikey', 'basic', 'opaque'],
    ...extra,
  });

describe('API keys and Basic through /auth/verify', () => {
  it('forwards the credential header as sent and reads the identity headers', async () => {
    const verifier = verifierFor();
    const identity = await verifier.verifyRequest({ 'x-api-key': GOOD_KEY });
    expect(identity).toEqual({
      subject: 'usr_bob',
      method: 'apikey',
      scopes: ['orders:read'],
      clientId: 'key_1',
      credentialId: undefined,
      claims: {},
    });
    const forwarded = issuer.requests.find((request) => request.path === '/auth/verify');
    expect(forwarded?.headers['x-api-key']).toBe(GOOD_KEY);
    expect(forwarded?.headers.authorization).toBeUndefined();
    // Gatehouse also takes its keys as bearer tokens, recognised by their prefix.
    await expect(verifier.verifyRequest({ authorization: `Bearer ${GOOD_KEY}` })).resolves.toMatchObject({
      method: 'apikey',
    });
    const basic = `Basic ${Buffer.from('bob:correct horse').toString('base64')}`;
    await expect(verifier.verifyRequest({ authorization: basic })).resolves.toMatchObject({ method: 'basic' });
  });

  it('coalesces 1000 concurrent requests with one new key into one call', async () => {
    const verifier = verifierFor();
    const identities = await Promise.all(
      Array.from({ length: 1000 }, () => verifier.verifyRequest({ 'x-api-key': GOOD_KEY })),
    );
    expect(new Set(identities).size).toBe(1);
    expect(issuer.count('/auth/verify')).toBe(1);
    // Refusals coalesce too.
    const bad = await Promise.allSettled(
      Array.from({ length: 1000 }, () => verifier.verifyRequest({ 'x-api-key': 'gk_wrong' })),
    );
    expect(bad.every((result) => result.status === 'rejected')).toBe(true);
    expect(issuer.count('/auth/verify')).toBe(2);
  });

  it('caches an answer for remoteCacheTtl, a refusal for remoteNegativeCacheTtl', async () => {
    const verifier = verifierFor({ remoteCacheTtl: 30_000, remoteNegativeCacheTtl: 5000 });
    await verifier.verifyRequest({ 'x-api-key': GOOD_KEY });
    now += 29_999;
    await verifier.verifyRequest({ 'x-api-key': GOOD_KEY });
    expect(issuer.count('/auth/verify')).toBe(1);
    now += 1;
    await verifier.verifyRequest({ 'x-api-key': GOOD_KEY });
    expect(issuer.count('/auth/verify')).toBe(2);

    const error = await refusal(verifier.verifyRequest({ 'x-api-key': 'gk_wrong' }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({
      status: 401,
      code: 'ERR_CREDENTIAL_REJECTED',
      description: 'The credential is invalid',
    });
    expect(error.message).toContain('The API key is not valid');
    await refusal(verifier.verifyRequest({ 'x-api-key': 'gk_wrong' }));
    expect(issuer.count('/auth/verify')).toBe(3);
    now += 5000;
    await refusal(verifier.verifyRequest({ 'x-api-key': 'gk_wrong' }));
    expect(issuer.count('/auth/verify')).toBe(4);
  });

  it('fails closed when the issuer fails, and never caches that (docs/security.md #35)', async () => {
    issuer.handlers.set('/auth/verify', () => ({
      status: 503,
      body: { type: 'urn:gatehouse:problem:store-unavailable' },
    }));
    const verifier = verifierFor();
    const error = await refusal(verifier.verifyRequest({ 'x-api-key': GOOD_KEY }));
    expect(error).toBeInstanceOf(VerifierUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'ERR_REMOTE_STATUS' });
    issuer.handlers.set('/auth/verify', gatehouseVerify);
    await expect(verifier.verifyRequest({ 'x-api-key': GOOD_KEY })).resolves.toMatchObject({ subject: 'usr_bob' });

    issuer.handlers.set('/auth/verify', () => new Promise(() => {}));
    const hung = await refusal(verifierFor({ timeout: 200 }).verifyRequest({ 'x-api-key': GOOD_KEY }));
    expect(hung).toMatchObject({ status: 503, code: 'ERR_REMOTE_TIMEOUT' });

    issuer.handlers.set('/auth/verify', () => ({ status: 200, headers: {} }));
    const empty = await refusal(verifierFor().verifyRequest({ 'x-api-key': GOOD_KEY }));
    expect(empty).toMatchObject({ status: 503, code: 'ERR_REMOTE_INVALID_ANSWER' });
  });

  it('passes a throttled answer on as 429 with its Retry-After', async () => {
    issuer.handlers.set('/auth/verify', () => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: 'rate_limited', error_description: 'Too many requests with this API key' },
    }));
    const error = await refusal(verifierFor().verifyRequest({ 'x-api-key': GOOD_KEY }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, error: 'rate_limited', retryAfter: 7 });
  });

  it('treats credentials of a kind the service does not accept as absent, and refuses two at once', async () => {
    const jwtOnly = verifierFor({ accept: ['jwt'] });
    expect(await refusal(jwtOnly.verifyRequest({ 'x-api-key': GOOD_KEY }))).toBeInstanceOf(MissingCredentialsError);
    expect(issuer.count('/auth/verify')).toBe(0);
    const keysOnly = verifierFor({ accept: ['apikey'] });
    const jwt = await refusal(keysOnly.verifyRequest({ authorization: `Bearer ${await issuer.sign()}` }));
    expect(jwt).toBeInstanceOf(MissingCredentialsError);
    expect(issuer.count('/jwks')).toBe(0);
    const both = await refusal(verifierFor().verifyRequest({ 'x-api-key': GOOD_KEY, authorization: 'Basic Ym9iOng=' }));
    expect(both).toBeInstanceOf(InvalidRequestError);
    expect(both.code).toBe('ERR_MULTIPLE_CREDENTIALS');
    const twice = await refusal(verifierFor().verifyRequest({ 'x-api-key': [GOOD_KEY, GOOD_KEY] }));
    expect(twice.code).toBe('ERR_DUPLICATE_HEADER');
  });
});

describe('opaque tokens through RFC 7662 introspection', () => {
  const introspection = { clientId: 'svc_orders', clientSecret: 's3cr3t:with/odd chars' };

  beforeEach(() => {
    const issuedAt = now;
    issuer.handlers.set('/oauth/introspect', (request) => {
      // RFC 6749 §2.3.1: client_id and secret form-encoded, then Basic.
      const expected = `Basic ${Buffer.from('svc_orders:s3cr3t%3Awith%2Fodd+chars').toString('base64')}`;
      if (request.headers.authorization !== expected) return { status: 401, body: { error: 'invalid_client' } };
      const form = new URLSearchParams(request.body);
      const token = form.get('token');
      if (token === 'opaque-good') {
        return {
          status: 200,
          body: {
            active: true,
            sub: 'usr_carol',
            scope: 'orders:read',
            client_id: 'cli_web',
            aud: issuer.audience,
            iss: issuer.url,
            exp: Math.floor(issuedAt / 1000) + 10,
          },
        };
      }
      if (token === 'opaque-elsewhere') {
        return { status: 200, body: { active: true, sub: 'usr_carol', aud: 'https://other' } };
      }
      // What Gatehouse answers for a refresh token: active, but never an access token.
      if (token === 'refresh-token') {
        return {
          status: 200,
          body: { active: true, sub: 'usr_carol', client_id: 'cli_web', token_type: 'refresh_token' },
        };
      }
      return { status: 200, body: { active: false } };
    });
  });

  it('introspects with the service’s client credentials and caches until the token’s exp at most', async () => {
    const verifier = verifierFor({ introspection, remoteCacheTtl: 60_000 });
    const identity = await verifier.verify('opaque-good');
    expect(identity).toMatchObject({
      subject: 'usr_carol',
      method: 'opaque',
      scopes: ['orders:read'],
      clientId: 'cli_web',
    });
    const sent = new URLSearchParams(issuer.requests.find((r) => r.path === '/oauth/introspect')?.body);
    expect(sent.get('token_type_hint')).toBe('access_token');
    now += 9999;
    await verifier.verify('opaque-good');
    expect(issuer.count('/oauth/introspect')).toBe(1);
    now += 1;
    // At exp the cache lets go, asks again, and the answer's exp has passed.
    expect(await refusal(verifier.verify('opaque-good'))).toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    expect(issuer.count('/oauth/introspect')).toBe(2);
    expect(issuer.count('/auth/verify')).toBe(0);
  });

  it('refuses inactive tokens, tokens for another audience, and refresh tokens (docs/security.md #23)', async () => {
    const verifier = verifierFor({ introspection });
    expect(await refusal(verifier.verify('opaque-unknown'))).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(await refusal(verifier.verify('opaque-elsewhere'))).toMatchObject({ status: 401, code: 'ERR_JWT_AUDIENCE' });
    expect(await refusal(verifier.verify('refresh-token'))).toMatchObject({ status: 401, code: 'ERR_TOKEN_TYPE' });
  });

  it('answers 503 when the issuer refuses the service’s own client credentials (a configuration error)', async () => {
    const verifier = verifierFor({ introspection: { clientId: 'svc_orders', clientSecret: 'wrong' } });
    const error = await refusal(verifier.verify('opaque-good'));
    expect(error).toMatchObject({ status: 503, code: 'ERR_INTROSPECTION_UNAUTHORIZED' });
  });
});
