/**
 * Verifying API keys at /auth/verify over real HTTP, on every store: where a key may be sent,
 * the identity headers, scopes, and every bad input of issue 3, each answered without a store
 * lookup when the format already rules it out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../../src/core/apikeys/key-format.js';
import { INVALID_KEY_BODY, issueKey, storeLookups, verify } from '../../support/api-keys.js';
import { manualClock } from '../../support/clock.js';
import { storeKinds } from '../../support/databases.js';
import { type RawResponse, rawRequest } from '../../support/http.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const CHALLENGE = 'ApiKey realm="gatehouse", header="x-api-key"';
const INVALID_CHALLENGE = `${CHALLENGE}, error="invalid_token", error_description="The API key is not valid"`;

/** A key with our prefix, the right shape and a valid checksum that was never issued. */
function neverIssued(prefix = 'gk'): string {
  const body = `${prefix}_${'Z'.repeat(43)}`;
  return body + checksumOf(body);
}

async function expectInvalidKey(response: Response | RawResponse, label = ''): Promise<void> {
  expect(response.status, label).toBe(401);
  const headers = response.headers as Headers | Record<string, unknown>;
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  expect(get('www-authenticate'), label).toBe(INVALID_CHALLENGE);
  expect(get('cache-control'), label).toBe('no-store');
  expect(get('x-auth-subject'), label).toBeFalsy();
  const body = response instanceof Response ? await response.json() : response.json();
  expect(body, label).toEqual(INVALID_KEY_BODY);
}

describe.each(storeKinds())('API key verification on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();
  let owned: { id: string; key: string };
  let ownerless: { id: string; key: string };
  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    owned = await issueKey(server, { name: 'svc', owner: 'svc-orders', scopes: ['data:read', 'orders:write'] });
    ownerless = await issueKey(server, { name: 'ownerless' });
  });
  afterAll(async () => server?.stop());

  it('accepts a key in X-API-Key: 200 with the identity headers and X-Auth-Method: apikey', async () => {
    const response = await verify(server, { 'x-api-key': owned.key });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-method')).toBe('apikey');
    expect(response.headers.get('x-auth-subject')).toBe('svc-orders');
    expect(response.headers.get('x-auth-scopes')).toBe('data:read orders:write');
    expect(response.headers.get('x-auth-client-id')).toBe(owned.id);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // Without an owner, the key is its own subject.
    const plain = await verify(server, { 'X-Api-Key': ownerless.key });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-auth-subject')).toBe(ownerless.id);
    expect(plain.headers.get('x-auth-scopes')).toBe('');
  });

  it('accepts a key as Authorization: Bearer (scheme case-insensitive, RFC 9110 §11.1)', async () => {
    for (const authorization of [`Bearer ${owned.key}`, `bearer ${owned.key}`, `BEARER  ${owned.key}`]) {
      const response = await verify(server, { authorization });
      expect(response.status, authorization).toBe(200);
      expect(response.headers.get('x-auth-method')).toBe('apikey');
    }
  });

  it('leaves bearer tokens without the key prefix to the next mechanism (JWT), without a lookup', async () => {
    const before = storeLookups(server);
    const response = await verify(server, { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' });
    expect(response.status).toBe(401);
    // The JWT mechanism answered, not the API-key one.
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expect(storeLookups(server)).toBe(before);
  });

  it('lists its challenge, without an error code, when no credential was presented (RFC 6750 §3.1)', async () => {
    const response = await verify(server, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: 'unauthorized',
      error_description: 'No credentials were presented',
    });
    expect(response.headers.get('www-authenticate')?.startsWith(`${CHALLENGE}, `)).toBe(true);
  });

  it('ignores ?api_key= while query parameters are off (the default), and never logs its value', async () => {
    const response = await verify(server, {}, `?api_key=${owned.key}`);
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('unauthorized');
    expect(server.logs.join('')).not.toContain(owned.key);
  });

  it('refuses a key sent in two places with 400 invalid_request (RFC 6750 §2)', async () => {
    const response = await verify(server, { 'x-api-key': owned.key, authorization: `Bearer ${owned.key}` });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses two X-API-Key headers with 400 (docs/security.md #28)', async () => {
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['X-API-Key', owned.key],
        ['x-api-key', ownerless.key],
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The x-api-key header appears more than once',
    });
  });

  it('answers 403 insufficient_scope when /auth/verify?scope= asks for scopes the key lacks', async () => {
    expect((await verify(server, { 'x-api-key': owned.key }, '?scope=data:read')).status).toBe(200);
    expect((await verify(server, { 'x-api-key': owned.key }, '?scope=data:read%20orders:write')).status).toBe(200);
    const denied = await verify(server, { 'x-api-key': owned.key }, '?scope=data:read%20admin');
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'insufficient_scope' });
    expect(denied.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="data:read admin"');
    expect(denied.headers.get('x-auth-subject')).toBeNull();
  });

  it('answers every malformed key 401 with one uniform body, without a store lookup', async () => {
    const key = owned.key;
    const lastChar = key.at(-1) as string;
    const secretChar = key[10] as string;
    const cases: Array<[string, Array<[string, string]>]> = [
      ['empty', [['X-API-Key', '']]],
      ['huge (4 KB)', [['X-API-Key', 'gk_'.padEnd(4096, 'A')]]],
      ['huge (12 KB)', [['X-API-Key', 'A'.repeat(12_000)]]],
      ['non-ASCII', [['X-API-Key', `${key.slice(0, 20)}é${key.slice(21)}`]]],
      ['padded with a no-break space', [['X-API-Key', `\u00a0${key}`]]],
      ['space inside', [['X-API-Key', `${key.slice(0, 20)} ${key.slice(20)}`]]],
      ['another prefix', [['X-API-Key', `sk_${key.slice(3)}`]]],
      ['another environment tag', [['X-API-Key', `gk_test_${key.slice(3)}`]]],
      ['bad checksum', [['X-API-Key', `${key.slice(0, -1)}${lastChar === 'a' ? 'b' : 'a'}`]]],
      ['edited secret', [['X-API-Key', `${key.slice(0, 10)}${secretChar === 'a' ? 'b' : 'a'}${key.slice(11)}`]]],
      ['truncated', [['X-API-Key', key.slice(0, -1)]]],
      ['lower-cased', [['X-API-Key', key.toLowerCase()]]],
      ['garbage', [['X-API-Key', 'hello']]],
      ['bearer, garbage after the prefix', [['Authorization', `Bearer gk_${'!'.repeat(49)}`]]],
      ['bearer, trailing junk', [['Authorization', `Bearer ${key} extra`]]],
    ];
    const before = storeLookups(server);
    for (const [label, headers] of cases) {
      await expectInvalidKey(await rawRequest(`${server.publicUrl}/auth/verify`, { headers }), label);
    }
    expect(storeLookups(server)).toBe(before);
    // Headers beyond Node's limit never reach us: 431, not a 500.
    const tooBig = await verify(server, { 'x-api-key': 'A'.repeat(20_000) });
    expect(tooBig.status).toBe(431);
  });

  it('treats whitespace around a header value as HTTP does: not part of the value (RFC 9110 §5.5)', async () => {
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [['X-API-Key', `  ${owned.key}\t`]],
    });
    expect(response.status).toBe(200);
  });

  it('answers an unknown key 401 after one store lookup, then from the negative cache', async () => {
    const before = storeLookups(server);
    await expectInvalidKey(await verify(server, { 'x-api-key': neverIssued() }));
    expect(storeLookups(server)).toBe(before + 1);
    for (let i = 0; i < 5; i++) await expectInvalidKey(await verify(server, { 'x-api-key': neverIssued() }));
    expect(storeLookups(server)).toBe(before + 1);
  });

  it('serves a verified key from memory: repeated verifications cost no store lookup', async () => {
    const { key } = await issueKey(server, { name: 'hot' });
    expect((await verify(server, { 'x-api-key': key })).status).toBe(200);
    const before = storeLookups(server);
    for (let i = 0; i < 20; i++) expect((await verify(server, { 'x-api-key': key })).status).toBe(200);
    expect(storeLookups(server)).toBe(before);
  });

  it('gives revoked, expired, exhausted and unknown keys the same 401 body; the reason goes to the audit', async () => {
    const revoked = await issueKey(server, { name: 'revoked' });
    await server.admin('DELETE', `/admin/v1/api-keys/${revoked.id}`);
    const expired = await issueKey(server, { name: 'expired', expires_in: 60 });
    const exhausted = await issueKey(server, { name: 'exhausted', remaining_uses: 1 });
    expect((await verify(server, { 'x-api-key': exhausted.key })).status).toBe(200);
    clock.advance(60_000);
    for (const key of [revoked.key, expired.key, exhausted.key, neverIssued()]) {
      await expectInvalidKey(await verify(server, { 'x-api-key': key }));
    }
    await server.running.services.audit.flush();
    const failures = (await server.admin('GET', '/admin/v1/audit-events?action=auth.failed&limit=200')).body.data;
    const reasonFor = (id: string) => failures.find((event: { target: string | null }) => event.target === id)?.details;
    expect(reasonFor(revoked.id)).toEqual({ method: 'apikey', reason: 'revoked' });
    expect(reasonFor(expired.id)).toEqual({ method: 'apikey', reason: 'expired' });
    expect(reasonFor(exhausted.id)).toEqual({ method: 'apikey', reason: 'exhausted' });
    expect(failures.some((event: { details: { reason: string } }) => event.details.reason === 'unknown')).toBe(true);
    expect(failures.some((event: { details: { reason: string } }) => event.details.reason === 'bad_checksum')).toBe(
      true,
    );
    expect(JSON.stringify(failures)).not.toMatch(/gk_[0-9A-Za-z]{10}/);
  });

  it('counts failures under attack instead of storing each one (sampled audit)', async () => {
    clock.advance(120_000); // a fresh sampling window
    for (let i = 0; i < 40; i++) await verify(server, { 'x-api-key': `sk_attack_${i}` });
    clock.advance(60_000);
    await server.running.services.audit.flush();
    const events = (await server.admin('GET', '/admin/v1/audit-events?action=auth.*&limit=200')).body.data;
    const recent = events.filter(
      (event: { at: string; details: { reason: string } }) =>
        Date.parse(event.at) >= clock.now() - 60_000 && event.details.reason === 'malformed',
    );
    const summary = events.find(
      (event: { action: string; details: { reason: string } }) =>
        event.action === 'auth.failed.summary' && event.details.reason === 'malformed',
    );
    expect(summary?.details).toMatchObject({ method: 'apikey', reason: 'malformed', count: 40, suppressed: 20 });
    // The first 20 of the window are kept in full; the other 20 are only counted.
    expect(recent.filter((event: { action: string }) => event.action === 'auth.failed')).toHaveLength(20);
  });

  it('never logs a key, in any place it was sent', async () => {
    const keys = [owned.key, ownerless.key];
    await verify(server, { authorization: `Bearer ${owned.key}` }, '?scope=nope');
    await verify(server, { 'x-api-key': `${owned.key.slice(0, -1)}x` });
    const logs = server.logs.join('');
    expect(logs).toContain('"reason"');
    for (const key of keys) expect(logs).not.toContain(key.slice(3, 46));
  });
});

describe.each(storeKinds())('API key verification with a custom header, prefix and query parameters on %s', (kind) => {
  let server: TestServer;
  let issued: { id: string; key: string };
  beforeAll(async () => {
    server = await startTestServer(kind, {
      env: {
        GATEHOUSE_APIKEYS_HEADER: 'X-Service-Key',
        GATEHOUSE_APIKEYS_PREFIX: 'acme_live',
        GATEHOUSE_APIKEYS_QUERY_PARAM: 'true',
      },
    });
    issued = await issueKey(server, { name: 'custom' });
  });
  afterAll(async () => server?.stop());

  it('issues keys under the configured prefix and reads them from the configured header', async () => {
    expect(issued.key).toMatch(/^acme_live_[0-9A-Za-z]{49}$/);
    expect((await verify(server, { 'x-service-key': issued.key })).status).toBe(200);
    // X-API-Key is no longer where keys go: not a credential, so none was presented.
    const response = await verify(server, { 'x-api-key': issued.key });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'unauthorized' });
    expect(response.headers.get('www-authenticate')).toMatch(/^ApiKey realm="gatehouse", header="x-service-key", /);
  });

  it('refuses keys of the default prefix without a lookup', async () => {
    const before = storeLookups(server);
    const response = await verify(server, { 'x-service-key': neverIssued('gk') });
    expect(response.status).toBe(401);
    expect(storeLookups(server)).toBe(before);
  });

  it('refuses the configured header twice with 400 (the duplicate check includes it)', async () => {
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['X-Service-Key', issued.key],
        ['X-SERVICE-KEY', issued.key],
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json().error_description).toBe('The x-service-key header appears more than once');
  });

  it('accepts ?api_key= when enabled, refuses it repeated or combined with a header, and redacts it in logs', async () => {
    expect((await verify(server, {}, `?api_key=${issued.key}`)).status).toBe(200);
    expect((await verify(server, {}, `?scope=&api_key=${issued.key}`)).status).toBe(200);
    const twice = await verify(server, {}, `?api_key=${issued.key}&api_key=${issued.key}`);
    expect(twice.status).toBe(400);
    const both = await verify(server, { 'x-service-key': issued.key }, `?api_key=${issued.key}`);
    expect(both.status).toBe(400);
    const padded = await verify(server, {}, `?api_key=%20${issued.key}`);
    expect(padded.status).toBe(401);
    expect(await padded.json()).toEqual(INVALID_KEY_BODY);
    expect(server.logs.join('')).not.toContain(issued.key);
  });
});
