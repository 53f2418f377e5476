/**
 * The verification failure budget over HTTP (issue 15 finding 4; docs/security.md #32 per-IP limits,
 * ASVS 2.4.1): an enumeration of well-formed API keys or bearer tokens from one client costs the
 * store at most `throttle.verify_budget` lookups per window, and is then answered 429 with
 * Retry-After without a lookup; a credential memory knows to be good still passes. Client IPs
 * come from X-Forwarded-For through trust_proxy=loopback, as the Basic throttle reads them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/core/apikeys/key-format.js';
import { issueKey, storeLookups } from '../support/api-keys.js';
import { createUser } from '../support/basic.js';
import { manualClock } from '../support/clock.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BUDGET = 20;

/** A random key with our prefix, shape and a valid checksum: what an enumeration sends. */
const randomWellFormedKey = (): string => generateApiKey('gk');

describe.each(storeKinds())('verification failure budget on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();

  beforeAll(async () => {
    server = await startTestServer(kind, {
      clock,
      env: {
        GATEHOUSE_DEV: 'true',
        GATEHOUSE_TRUST_PROXY: 'loopback',
        GATEHOUSE_THROTTLE_VERIFY_BUDGET: String(BUDGET),
        GATEHOUSE_THROTTLE_VERIFY_WINDOW: '1m',
      },
    });
  });
  afterAll(async () => server?.stop());

  const call = async (ip: string, headers: Record<string, string>, method = 'GET') => {
    const response = await fetch(`${server.publicUrl}/auth/verify`, {
      method,
      headers: { 'x-forwarded-for': ip, ...headers },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  /** Sends `count` random keys from `ip`, `parallel` at a time; answers the statuses. */
  async function enumerate(ip: string, count: number, parallel = 10): Promise<number[]> {
    const statuses: number[] = [];
    for (let sent = 0; sent < count; sent += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - sent) }, () =>
        call(ip, { 'x-api-key': randomWellFormedKey() }),
      );
      statuses.push(...(await Promise.all(batch)).map((answer) => answer.status));
    }
    return statuses;
  }

  it('bounds an enumeration to the budget in store lookups, then answers 429 with Retry-After', async () => {
    const before = storeLookups(server);
    const statuses = await enumerate('198.51.100.10', 200);
    // Charged before the lookup settles: concurrency cannot overrun the budget.
    expect(storeLookups(server) - before).toBe(BUDGET);
    expect(statuses.filter((status) => status === 401)).toHaveLength(BUDGET);
    expect(statuses.filter((status) => status === 429)).toHaveLength(200 - BUDGET);

    const held = await call('198.51.100.10', { 'x-api-key': randomWellFormedKey() });
    expect(held.status).toBe(429);
    expect(held.headers.get('retry-after')).toBe('60');
    expect(held.headers.get('cache-control')).toBe('no-store');
    expect(held.body).toEqual({
      error: 'too_many_attempts',
      error_description: 'Too many failed verifications from this client; retry after 60 seconds',
    });
    // Both doors: a POST goes through Fastify's router, not the fast lane.
    expect((await call('198.51.100.10', { 'x-api-key': randomWellFormedKey() }, 'POST')).status).toBe(429);
    expect(storeLookups(server) - before).toBe(BUDGET);
  });

  it('never locks out a key memory knows to be good; the budget is per client and ends with its window', async () => {
    const ip = '198.51.100.20';
    const warm = await issueKey(server, { name: 'warm', owner: 'svc-warm' });
    const cold = await issueKey(server, { name: 'cold', owner: 'svc-cold' });
    // Verified once (from elsewhere): now in the verification cache.
    expect((await call('192.0.2.1', { 'x-api-key': warm.key })).status).toBe(200);

    await enumerate(ip, BUDGET + 5);
    const lookups = storeLookups(server);
    const passed = await call(ip, { 'x-api-key': warm.key });
    expect(passed.status).toBe(200);
    expect(passed.headers.get('x-auth-subject')).toBe('svc-warm');
    // A key memory does not know would need the store: held back like any unknown one.
    expect((await call(ip, { 'x-api-key': cold.key })).status).toBe(429);
    expect(storeLookups(server)).toBe(lookups);

    // Another client is not affected.
    expect((await call('198.51.100.21', { 'x-api-key': cold.key })).status).toBe(200);
    expect((await call('198.51.100.21', { 'x-api-key': randomWellFormedKey() })).status).toBe(401);

    clock.advance(60_000);
    expect((await call(ip, { 'x-api-key': randomWellFormedKey() })).status).toBe(401);
    expect((await call(ip, { 'x-api-key': cold.key })).status).toBe(200);
  });

  it('counts an IPv6 client by its /64', async () => {
    const statuses = await enumerate('2001:db8:7:7::1', BUDGET, 5);
    expect(statuses.every((status) => status === 401)).toBe(true);
    expect((await call('2001:db8:7:7:ffff::2', { 'x-api-key': randomWellFormedKey() })).status).toBe(429);
    expect((await call('2001:db8:7:8::1', { 'x-api-key': randomWellFormedKey() })).status).toBe(401);
  });

  it('holds back bearer JWTs alike: a cached good token passes, anything else is 429 without verification', async () => {
    await createUser(server, { username: 'budget-user', password: 'budget-user-password' });
    const login = async () => {
      const response = await fetch(`${server.publicUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.9' },
        body: JSON.stringify({ username: 'budget-user', password: 'budget-user-password' }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const cached = await login();
    expect((await call('192.0.2.9', { authorization: `Bearer ${cached}` })).status).toBe(200);
    clock.advance(1000);
    const fresh = await login();
    expect(fresh).not.toBe(cached);

    const ip = '198.51.100.30';
    const forged = `${cached.slice(0, cached.lastIndexOf('.'))}.${randomBytes(64).toString('base64url')}`;
    for (let i = 0; i < BUDGET; i++) {
      expect((await call(ip, { authorization: `Bearer ${forged}` })).status).toBe(401);
    }
    const held = await call(ip, { authorization: `Bearer ${forged}` });
    expect(held.status).toBe(429);
    expect(held.headers.get('retry-after')).toBe('60');
    expect((await call(ip, { authorization: `Bearer ${cached}` })).status).toBe(200);
    expect((await call(ip, { authorization: `Bearer ${fresh}` })).status).toBe(429);
    expect((await call('198.51.100.31', { authorization: `Bearer ${fresh}` })).status).toBe(200);
  });
});
