/**
 * The gateway with real API keys: the key (in the configured header or as a Bearer token) never
 * reaches the upstream, identity headers do (docs/security.md #36); revoked keys are refused; the
 * key's own rate limit and the route's `rate_limit` answer 429 with `Retry-After` and
 * `RateLimit-*`, per caller; forward auth applies the route limit too; and with PostgreSQL down,
 * an uncached key is a 503, never a pass (docs/security.md #35). On every store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { postgresBehindProxy } from '../support/tcp-proxy.js';
import { type SeenRequest, startUpstream, type TestUpstream } from '../support/upstream.js';

/** Issues a key through the admin API; answers its plaintext and id. */
async function issueKey(server: TestServer, body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const created = await server.admin('POST', '/admin/v1/api-keys', body);
  if (created.status !== 201) throw new Error(`issuing a key failed: ${JSON.stringify(created.body)}`);
  return created.body;
}

describe.each(storeKinds())('gateway with API keys on %s', (kind) => {
  let server: TestServer;
  let upstream: TestUpstream;
  let service: { key: string; id: string };
  const clock = manualClock(Date.now());
  const lastSeen = (): SeenRequest => upstream.seen[upstream.seen.length - 1] as SeenRequest;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.proxyUrl}${path}`, { headers });

  beforeAll(async () => {
    upstream = await startUpstream();
    server = await startTestServer(kind, {
      clock,
      // A custom header name: the gateway must strip that one too.
      env: { GATEHOUSE_APIKEYS_HEADER: 'X-Service-Key' },
      routes: [
        { name: 'keyed', match: { path: '/keyed' }, upstream: upstream.url, auth: ['apikey'], scopes: ['data:read'] },
        {
          name: 'limited',
          match: { path: '/limited' },
          upstream: upstream.url,
          auth: ['apikey', 'anonymous'],
          rate_limit: '2/minute',
        },
        { name: 'limited-fa', match: { path: '/fa-limited' }, auth: ['apikey'], rate_limit: '1/minute' },
      ],
    });
    service = await issueKey(server, { name: 'orders', owner: 'svc-orders', scopes: ['data:read'] });
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('lets a key through with identity headers, in the configured header or as a Bearer token, and strips it', async () => {
    for (const headers of <Array<Record<string, string>>>[
      { 'x-service-key': service.key },
      { authorization: `Bearer ${service.key}` },
    ]) {
      const response = await get('/keyed/orders?page=1', { ...headers, 'x-api-key': 'also-stripped' });
      expect(response.status).toBe(200);
      const seen = lastSeen();
      expect(seen.headers).toMatchObject({ 'x-auth-subject': 'svc-orders', 'x-auth-method': 'apikey' });
      expect(JSON.stringify(seen.headers)).not.toContain(service.key);
      expect(seen.headers).not.toHaveProperty('x-service-key');
      expect(seen.headers).not.toHaveProperty('x-api-key');
      expect(seen.headers).not.toHaveProperty('authorization');
    }
    expect(server.logs.join('')).not.toContain(service.key);
  });

  it('refuses the configured key header sent twice (docs/security.md #28)', async () => {
    const response = await rawRequest(`${server.proxyUrl}/keyed/x`, {
      headers: [
        ['X-Service-Key', service.key],
        ['x-service-key', 'other'],
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json().type).toBe('urn:gatehouse:problem:duplicate-header');
  });

  it('refuses a revoked key, and a key without the route’s scope', async () => {
    const doomed = await issueKey(server, { name: 'doomed', scopes: ['data:read'] });
    expect((await get('/keyed', { 'x-service-key': doomed.key })).status).toBe(200);
    expect((await server.admin('DELETE', `/admin/v1/api-keys/${doomed.id}`)).status).toBe(204);
    const before = upstream.seen.length;
    const revoked = await get('/keyed', { 'x-service-key': doomed.key });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const unscoped = await issueKey(server, { name: 'unscoped' });
    expect((await get('/keyed', { 'x-service-key': unscoped.key })).status).toBe(403);
    expect(upstream.seen.length).toBe(before);
  });

  it('passes the key’s own rate limit headers to the client and answers 429 past it', async () => {
    const limited = await issueKey(server, { name: 'limited', scopes: ['data:read'], rate_limit: '2/minute' });
    const first = await get('/keyed', { 'x-service-key': limited.key });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect((await get('/keyed', { 'x-service-key': limited.key })).status).toBe(200);
    const third = await get('/keyed', { 'x-service-key': limited.key });
    expect(third.status).toBe(429);
    expect((await third.json()).type).toBe('urn:gatehouse:problem:rate-limited');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('enforces the route’s rate_limit per caller: per subject with a key, per address without', async () => {
    for (let i = 0; i < 2; i++) {
      const allowed = await get('/limited');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('ratelimit-policy')).toBe('2;w=60');
    }
    const denied = await get('/limited');
    expect(denied.status).toBe(429);
    expect(denied.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
    expect(await denied.json()).toMatchObject({ type: 'urn:gatehouse:problem:rate-limited', status: 429 });
    // The service's key has a budget of its own at this route.
    expect((await get('/limited', { 'x-service-key': service.key })).status).toBe(200);
    // A new window (an injected clock, no sleeping) lets the anonymous caller in again.
    clock.advance(120_000);
    expect((await get('/limited')).status).toBe(200);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="gateway",route="limited",mechanism="none",outcome="rate_limited"\} 1/,
    );
  });

  it('applies the route’s rate_limit in forward auth too', async () => {
    const ask = () =>
      fetch(`${server.publicUrl}/auth/verify`, {
        headers: { 'x-service-key': service.key, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/fa-limited' },
      });
    expect((await ask()).status).toBe(200);
    const denied = await ask();
    expect(denied.status).toBe(429);
    expect(await denied.json()).toMatchObject({ error: 'rate_limited' });
    expect(denied.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
  });
});

describe.runIf(peer('postgres').present)('gateway with PostgreSQL down', () => {
  let database: Awaited<ReturnType<typeof postgresBehindProxy>>;
  let server: TestServer;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    database = await postgresBehindProxy();
    server = await startTestServer('postgres', {
      databaseUrl: database.serverUrl,
      env: { GATEHOUSE_DATABASE_CONNECT_TIMEOUT: '1s' },
      routes: [{ name: 'keyed', match: { path: '/keyed' }, upstream: upstream.url, auth: ['apikey'] }],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    await upstream?.close();
  });

  it('answers 503 problem+json for a key that needs the store, never a pass (docs/security.md #35)', async () => {
    const issued = await issueKey(server, { name: 'not-yet-used' });
    await database.proxy.cut();
    try {
      const before = upstream.seen.length;
      const response = await fetch(`${server.proxyUrl}/keyed/x`, { headers: { 'x-api-key': issued.key } });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ type: 'urn:gatehouse:problem:store-unavailable' });
      // Gatehouse's answer, not the upstream's (docs/existing-service.md).
      expect(response.headers.get('x-gatehouse-denied')).toBe('store-unavailable');
      expect(upstream.seen.length).toBe(before);
      const verified = await fetch(`${server.publicUrl}/auth/verify`, {
        headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/keyed/x', 'x-api-key': issued.key },
      });
      expect(verified.status).toBe(503);
      expect(verified.headers.get('x-gatehouse-denied')).toBe('store-unavailable');
      const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /gatehouse_requests_total\{surface="gateway",route="keyed",mechanism="none",outcome="unavailable"\} 1/,
      );
    } finally {
      await database.proxy.restore();
    }
  });
});
