/**
 * What changes a key's answer over time, over real HTTP on every store, with a clock the test
 * moves: rate limits (429 and the RateLimit headers), use counts (exact under concurrency),
 * expiry and rotation grace (never served past them from the cache), immediate invalidation in
 * this instance, and batched last_used_at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueKey, storeLookups, verify, verifyStatus } from '../../support/api-keys.js';
import { manualClock } from '../../support/clock.js';
import { storeKinds } from '../../support/databases.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(storeKinds())('API key limits, expiry and rotation on %s', (kind) => {
  let server: TestServer;
  // Start on a minute boundary so rate-limit windows are predictable.
  const clock = manualClock(Date.parse('2030-01-01T00:00:00.000Z'));
  beforeAll(async () => {
    // A long cache TTL: anything that stops a key before it elapses proves that the cache is
    // invalidated, or that the checks run against the clock on every request.
    server = await startTestServer(kind, { clock, env: { GATEHOUSE_APIKEYS_CACHE_TTL: '1h' } });
  });
  afterAll(async () => server?.stop());

  it('limits requests per window: RateLimit headers, then 429 with Retry-After, then allowed again', async () => {
    clock.set(Date.parse('2030-01-01T01:00:00.000Z'));
    const { key, id } = await issueKey(server, { name: 'limited', rate_limit: '3/minute' });
    for (const remaining of ['2', '1', '0']) {
      const response = await verify(server, { 'x-api-key': key });
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-limit')).toBe('3');
      expect(response.headers.get('ratelimit-remaining')).toBe(remaining);
      expect(response.headers.get('ratelimit-policy')).toBe('3;w=60');
      expect(Number(response.headers.get('ratelimit-reset'))).toBe(120);
    }
    const throttled = await verify(server, { 'x-api-key': key });
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toEqual({
      error: 'rate_limited',
      error_description: 'Too many requests with this API key; retry after the time in Retry-After',
    });
    expect(throttled.headers.get('cache-control')).toBe('no-store');
    expect(throttled.headers.get('ratelimit-remaining')).toBe('0');
    expect(throttled.headers.get('x-auth-subject')).toBeNull();
    // In the next window the previous one still weighs 3 × (60 − t)/60: one more fits after 20 s.
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBe(80);
    clock.advance((retryAfter - 1) * 1000);
    expect(await verifyStatus(server, key)).toBe(429);
    clock.advance(1000);
    expect(await verifyStatus(server, key)).toBe(200);

    await server.running.services.audit.flush();
    const audit = await server.admin('GET', `/admin/v1/audit-events?action=auth.failed&target=${id}`);
    expect(audit.body.data[0].details).toEqual({ method: 'apikey', reason: 'rate_limited' });
  });

  it('applies a rate limit changed through the admin API at once', async () => {
    const { key, id } = await issueKey(server, { name: 'relimited', rate_limit: '1000/minute' });
    expect(await verifyStatus(server, key)).toBe(200);
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { rate_limit: '1/hour' });
    expect(await verifyStatus(server, key)).toBe(200);
    expect(await verifyStatus(server, key)).toBe(429);
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { rate_limit: null });
    const unlimited = await verify(server, { 'x-api-key': key });
    expect(unlimited.status).toBe(200);
    expect(unlimited.headers.get('ratelimit-limit')).toBeNull();
  });

  it('spends exactly the uses a key has, even under concurrent requests', async () => {
    const { key, id } = await issueKey(server, { name: 'metered', remaining_uses: 5 });
    const statuses = await Promise.all(Array.from({ length: 25 }, () => verifyStatus(server, key)));
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 401)).toHaveLength(20);
    const shown = await server.admin('GET', `/admin/v1/api-keys/${id}`);
    expect(shown.body).toMatchObject({ remaining_uses: 0, state: 'exhausted' });
    // Topping up through the admin API works at once.
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { remaining_uses: 1 });
    expect(await verifyStatus(server, key)).toBe(200);
    expect(await verifyStatus(server, key)).toBe(401);
  });

  it('spends no use on a request refused for its scopes, nor on a throttled one', async () => {
    const { key, id } = await issueKey(server, {
      name: 'metered scoped',
      scopes: ['a'],
      remaining_uses: 2,
      rate_limit: '2/minute',
    });
    expect((await verify(server, { 'x-api-key': key }, '?scope=b')).status).toBe(403);
    expect((await verify(server, { 'x-api-key': key }, '?scope=b')).status).toBe(403);
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.remaining_uses).toBe(2);
    expect(await verifyStatus(server, key, '?scope=a')).toBe(429); // the 403s counted towards the rate limit
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.remaining_uses).toBe(2);
    clock.advance(2 * MINUTE);
    expect(await verifyStatus(server, key, '?scope=a')).toBe(200);
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.remaining_uses).toBe(1);
  });

  it('stops a cached key at its expires_at, to the millisecond, without asking the store', async () => {
    const { key } = await issueKey(server, { name: 'expiring', expires_in: 90 });
    expect(await verifyStatus(server, key)).toBe(200);
    const lookups = storeLookups(server);
    clock.advance(89_999);
    expect(await verifyStatus(server, key)).toBe(200);
    clock.advance(1);
    expect(await verifyStatus(server, key)).toBe(401);
    expect(storeLookups(server)).toBe(lookups);
  });

  it('stops a key revoked through this instance at once, although it was cached', async () => {
    const { key, id } = await issueKey(server, { name: 'revoked' });
    expect(await verifyStatus(server, key)).toBe(200);
    expect((await server.admin('DELETE', `/admin/v1/api-keys/${id}`)).status).toBe(204);
    expect(await verifyStatus(server, key)).toBe(401);
  });

  it('applies scope and expiry changes made through this instance at once', async () => {
    const { key, id } = await issueKey(server, { name: 'changing', scopes: ['a'] });
    expect(await verifyStatus(server, key, '?scope=a')).toBe(200);
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { scopes: ['b'] });
    expect((await verify(server, { 'x-api-key': key }, '?scope=a')).status).toBe(403);
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { expires_in: 1 });
    clock.advance(1000);
    expect(await verifyStatus(server, key)).toBe(401);
  });

  it('rotates with a grace period: both keys work, then only the new one, even from the cache', async () => {
    const { key: oldKey, id } = await issueKey(server, { name: 'rotating', owner: 'svc-rot' });
    expect(await verifyStatus(server, oldKey)).toBe(200);
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { grace: '10m' });
    const newKey = rotated.body.key as string;
    const response = await verify(server, { 'x-api-key': newKey });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-subject')).toBe('svc-rot');
    expect(response.headers.get('x-auth-client-id')).toBe(rotated.body.id);
    expect(await verifyStatus(server, oldKey)).toBe(200);
    clock.advance(10 * MINUTE - 1);
    expect(await verifyStatus(server, oldKey)).toBe(200);
    clock.advance(1);
    expect(await verifyStatus(server, oldKey)).toBe(401);
    expect(await verifyStatus(server, newKey)).toBe(200);
    await server.running.services.audit.flush();
    const audit = await server.admin('GET', `/admin/v1/audit-events?action=auth.failed&target=${id}`);
    expect(audit.body.data[0].details).toEqual({ method: 'apikey', reason: 'rotated' });
  });

  it('rotates without a grace period: the old key stops at once', async () => {
    const { key: oldKey, id } = await issueKey(server, { name: 'rotating now' });
    expect(await verifyStatus(server, oldKey)).toBe(200);
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, {});
    expect(await verifyStatus(server, oldKey)).toBe(401);
    expect(await verifyStatus(server, rotated.body.key)).toBe(200);
  });

  it('shares the use count and the rate limit between a rotated key in its grace period and its replacement', async () => {
    const { key: oldKey, id } = await issueKey(server, {
      name: 'metered rotation',
      remaining_uses: 4,
      rate_limit: '100/minute',
    });
    expect(await verifyStatus(server, oldKey)).toBe(200);
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { grace: '1h' });
    expect(rotated.body.remaining_uses).toBe(3);
    expect(await verifyStatus(server, oldKey)).toBe(200);
    expect(await verifyStatus(server, rotated.body.key)).toBe(200);
    expect(await verifyStatus(server, oldKey)).toBe(200);
    expect(await verifyStatus(server, rotated.body.key)).toBe(401);
    expect(await verifyStatus(server, oldKey)).toBe(401);
    expect((await server.admin('GET', `/admin/v1/api-keys/${rotated.body.id}`)).body.remaining_uses).toBe(0);
    const limited = await verify(server, { 'x-api-key': oldKey });
    expect(limited.headers.get('ratelimit-remaining')).toBeNull(); // denied before the limiter
    const fresh = await issueKey(server, { name: 'rate family', rate_limit: '2/hour' });
    expect(await verifyStatus(server, fresh.key)).toBe(200);
    const family = await server.admin('POST', `/admin/v1/api-keys/${fresh.id}/rotate`, { grace: '1h' });
    expect(await verifyStatus(server, fresh.key)).toBe(200);
    expect(await verifyStatus(server, family.body.key)).toBe(200);
    expect(await verifyStatus(server, fresh.key)).toBe(429);
    expect(await verifyStatus(server, family.body.key)).toBe(429);
  });

  it('writes last_used_at in batches, not per request', async () => {
    const { key, id } = await issueKey(server, { name: 'used' });
    for (let i = 0; i < 10; i++) expect(await verifyStatus(server, key)).toBe(200);
    const usedAt = new Date(clock.now()).toISOString();
    // The default interval is seconds away: nothing is written yet.
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.last_used_at).toBeNull();
    await server.running.services.apiKeys.flush();
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.last_used_at).toBe(usedAt);
    // Never moved backwards by a stale batch.
    await server.running.services.store.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(clock.now() + HOUR).toISOString() })
      .where('id', '=', id)
      .execute();
    await verifyStatus(server, key);
    await server.running.services.apiKeys.flush();
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.last_used_at).toBe(
      new Date(clock.now() + HOUR).toISOString(),
    );
  });
});
