/**
 * Brute-force protection over HTTP with an injected clock (no sleeping): exponential back-off per
 * username and per client IP with 429 + Retry-After, locks that end by themselves and cannot lock
 * a user out of a client it logged in from (docs/security.md #32), and the same answers whether the
 * username exists or not (docs/security.md #33). Client IPs are set with X-Forwarded-For through
 * trust_proxy=loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, createUser, manualClock, verify } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeKinds())('login throttling on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();
  const users: Record<string, any> = {};

  beforeAll(async () => {
    server = await startTestServer(kind, {
      clock,
      env: {
        GATEHOUSE_DEV: 'true',
        GATEHOUSE_TRUST_PROXY: 'loopback',
        GATEHOUSE_THROTTLE_USER_FREE_ATTEMPTS: '3',
        GATEHOUSE_THROTTLE_USER_LOCK_AFTER: '6',
        GATEHOUSE_THROTTLE_IP_FREE_ATTEMPTS: '10',
        GATEHOUSE_THROTTLE_IP_LOCK_AFTER: '30',
        GATEHOUSE_THROTTLE_BACKOFF_BASE: '1s',
        GATEHOUSE_THROTTLE_BACKOFF_MAX: '4s',
        GATEHOUSE_THROTTLE_LOCK_DURATION: '15m',
        // Every verification pays argon2id here, so each attempt really is checked.
        GATEHOUSE_BASIC_CACHE_TTL: '0',
      },
    });
    for (const name of ['alice', 'bob', 'carol']) {
      users[name] = await createUser(server, { username: name, password: `${name}-password` });
    }
  });
  afterAll(async () => server?.stop());

  const attempt = (username: string, password: string, ip: string) =>
    verify(server.publicUrl, { authorization: basicHeader(username, password), 'x-forwarded-for': ip });

  it('answers 429 with Retry-After after the free attempts, alike for known and unknown usernames', async () => {
    const answers = [];
    for (const [username, ip] of [
      ['alice', '198.51.100.1'],
      ['nobody', '198.51.100.2'],
    ] as const) {
      for (let i = 0; i < 3; i++) expect((await attempt(username, 'wrong-password', ip)).status).toBe(401);
      answers.push(await attempt(username, 'wrong-password', ip));
    }
    for (const answer of answers) {
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toEqual({
        error: 'too_many_attempts',
        error_description: 'Too many failed attempts; retry after 1 second',
      });
    }
    // While throttled, even the right password is not checked.
    expect((await attempt('alice', 'alice-password', '198.51.100.1')).status).toBe(429);

    clock.advance(1000);
    expect((await attempt('alice', 'alice-password', '198.51.100.1')).status).toBe(200);
    // The success cleared the counter: the next failure is an ordinary 401 again.
    expect((await attempt('alice', 'wrong-password', '198.51.100.1')).status).toBe(401);
    expect((await attempt('alice', 'wrong-password', '198.51.100.1')).status).toBe(401);
  });

  it('doubles the wait, then locks for lock_duration, audits the lock, and the lock ends by itself', async () => {
    const ip = '198.51.100.20';
    const waits: string[] = [];
    for (let failures = 0; failures < 6; ) {
      const answer = await attempt('bob', 'wrong-password', ip);
      if (answer.status === 401) {
        failures++;
        continue;
      }
      expect(answer.status).toBe(429);
      const wait = answer.headers.get('retry-after') ?? '';
      waits.push(wait);
      clock.advance(Number(wait) * 1000);
    }
    expect(waits).toEqual(['1', '2', '4']);
    const locked = await attempt('bob', 'bob-password', ip);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('900');

    await server.running.services.audit.flush();
    const events = await server.admin('GET', `/admin/v1/audit-events?action=auth.locked&target=${users.bob.id}`);
    expect(events.body.data).toHaveLength(1);
    expect(events.body.data[0]).toMatchObject({ outcome: 'failure', ip, details: { scope: 'user', failures: 6 } });

    clock.advance(15 * 60 * 1000);
    expect((await attempt('bob', 'bob-password', ip)).status).toBe(200);
  });

  it('does not let an attacker lock a user out of the client it logged in from (docs/security.md #32)', async () => {
    const home = '198.51.100.30';
    const attacker = '203.0.113.66';
    expect((await attempt('carol', 'carol-password', home)).status).toBe(200);
    for (let failures = 0; failures < 6; ) {
      const answer = await attempt('carol', `guess-${failures}`, attacker);
      if (answer.status === 401) failures++;
      else clock.advance(Number(answer.headers.get('retry-after')) * 1000);
    }
    expect((await attempt('carol', 'carol-password', attacker)).status).toBe(429);
    expect((await attempt('carol', 'carol-password', '203.0.113.67')).status).toBe(429);
    expect((await attempt('carol', 'carol-password', home)).status).toBe(200);
  });

  it('throttles one client IP across usernames', async () => {
    const ip = '192.0.2.99';
    for (let i = 0; i < 10; i++) expect((await attempt(`spray-${i}`, 'Password1!', ip)).status).toBe(401);
    const blocked = await attempt('alice', 'alice-password', ip);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('1');
    expect((await attempt('alice', 'alice-password', '192.0.2.100')).status).toBe(200);
  });
});
