/** The login throttle's arithmetic and its victim protection (docs/security.md #32), on a manual clock. */
import { describe, expect, it } from 'vitest';
import { createLoginThrottle, type ThrottlePolicy, waitAfter } from '../../src/core/throttle/login-throttle.js';
import { createMemoryThrottleStore } from '../../src/core/throttle/memory-throttle-store.js';

const policy: ThrottlePolicy = {
  user: { freeAttempts: 3, lockAfter: 6 },
  ip: { freeAttempts: 10, lockAfter: 20 },
  backoffBaseMs: 1000,
  backoffMaxMs: 4000,
  lockDurationMs: 60_000,
  resetAfterMs: 120_000,
  familiarTtlMs: 86_400_000,
};

describe('waitAfter', () => {
  it('is free, then doubles from the base up to the maximum, then locks', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((failures) => waitAfter(failures, policy.user, policy))).toEqual([
      0, 0, 1000, 2000, 4000, 60_000, 60_000,
    ]);
  });
});

describe('login throttle', () => {
  const alice = { username: 'alice', ip: '192.0.2.1' };

  it('blocks after the free attempts for the back-off delay, and a success clears the counter', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    let now = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(await throttle.check(alice, now)).toEqual({ allowed: true });
      await throttle.recordFailure(alice, now);
    }
    expect(await throttle.check(alice, now)).toEqual({ allowed: false, scope: 'user', retryAfterMs: 1000 });
    now += 999;
    expect(await throttle.check(alice, now)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    now += 1;
    expect(await throttle.check(alice, now)).toEqual({ allowed: true });
    await throttle.recordSuccess(alice, now);
    await throttle.recordFailure(alice, now);
    expect(await throttle.check(alice, now)).toEqual({ allowed: true });
  });

  it('reports the lock once, and forgets failures after reset_after', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    const stranger = { username: 'bob', ip: '198.51.100.7' };
    const locks = [];
    for (let i = 0; i < 7; i++) locks.push(...(await throttle.recordFailure(stranger, 0)));
    expect(locks).toEqual([{ scope: 'user', failures: 6, until: 60_000 }]);
    expect(await throttle.check(stranger, 59_999)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(await throttle.check(stranger, 60_000)).toEqual({ allowed: true });
    await throttle.recordFailure(stranger, 60_000); // still counting: locked again at once
    expect(await throttle.check(stranger, 60_000)).toMatchObject({ allowed: false, retryAfterMs: 60_000 });
    expect(await throttle.check(stranger, 60_000 + policy.resetAfterMs)).toEqual({ allowed: true });
    await throttle.recordFailure(stranger, 60_000 + policy.resetAfterMs);
    expect(await throttle.check(stranger, 60_000 + policy.resetAfterMs)).toEqual({ allowed: true });
  });

  it('an attacker elsewhere cannot lock the user out of a client it recently logged in from', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    await throttle.recordSuccess(alice, 0);
    const attacker = { username: 'alice', ip: '203.0.113.66' };
    for (let i = 0; i < 10; i++) await throttle.recordFailure(attacker, 1);
    expect(await throttle.check(attacker, 2)).toMatchObject({ allowed: false, scope: 'user' });
    expect(await throttle.check(alice, 2)).toEqual({ allowed: true });
    // …while failures from the familiar client still count against that client.
    for (let i = 0; i < 3; i++) await throttle.recordFailure(alice, 3);
    expect(await throttle.check(alice, 3)).toMatchObject({ allowed: false, scope: 'user' });
  });

  it('throttles a client IP across usernames', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    for (let i = 0; i < 10; i++) await throttle.recordFailure({ username: `user${i}`, ip: '192.0.2.9' }, 0);
    expect(await throttle.check({ username: 'fresh', ip: '192.0.2.9' }, 0)).toEqual({
      allowed: false,
      scope: 'ip',
      retryAfterMs: 1000,
    });
    expect(await throttle.check({ username: 'fresh', ip: '192.0.2.10' }, 0)).toEqual({ allowed: true });
  });

  it('keeps its memory bounded', async () => {
    const store = createMemoryThrottleStore({ maxEntries: 100 });
    const throttle = createLoginThrottle(store, policy);
    for (let i = 0; i < 1000; i++)
      await throttle.recordFailure({ username: `u${i}`, ip: `10.0.${i >> 8}.${i & 255}` }, i);
    const records = await store.read(['user\u0000u0', 'user\u0000u999'], 1000);
    expect(records[0]).toBeUndefined();
    expect(records[1]).toEqual({ failures: 1, lastFailureAt: 999 });
  });
});

describe('checkRemembered (in front of the Basic verification cache; issue 15, finding 1)', () => {
  const carol = { username: 'carol', ip: '192.0.2.2' };
  const attacker = { username: 'carol', ip: '198.51.100.4' };

  it('gives the same decision as check, synchronously, and never lets a held-back client through', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    const now = 2_000_000;
    for (let i = 0; i < 3; i++) await throttle.recordFailure(attacker, now);
    const remembered = throttle.checkRemembered(attacker, now);
    expect(remembered).toEqual(await throttle.check(attacker, now));
    expect(remembered).toEqual({ allowed: false, scope: 'user', retryAfterMs: 1000 });
  });

  it('makes a client it lets through familiar, so later failures elsewhere do not lock it out', async () => {
    const throttle = createLoginThrottle(createMemoryThrottleStore(), policy);
    const now = 3_000_000;
    expect(throttle.checkRemembered(carol, now)).toEqual({ allowed: true });
    for (let i = 0; i < 6; i++) await throttle.recordFailure(attacker, now);
    expect(throttle.checkRemembered(attacker, now).allowed).toBe(false);
    expect(throttle.checkRemembered(carol, now)).toEqual({ allowed: true });
    expect(await throttle.check(carol, now)).toEqual({ allowed: true });
  });
});
