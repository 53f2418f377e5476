/** The Basic verification cache: HMAC keys, TTL, bound, invalidation, races. */
import { describe, expect, it } from 'vitest';
import { createVerificationCache } from '../../src/core/basic/verification-cache.js';

const manualClock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('verification cache', () => {
  it('keys by a per-process HMAC of the credential, never the credential itself', () => {
    const clock = manualClock();
    const one = createVerificationCache({ ttlMs: 1000, maxEntries: 10, clock });
    const two = createVerificationCache({ ttlMs: 1000, maxEntries: 10, clock });
    const token = Buffer.from('alice:secret').toString('base64');
    expect(one.keyOf(token)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(one.keyOf(token)).toBe(one.keyOf(token));
    expect(one.keyOf(token)).not.toBe(two.keyOf(token));
    expect(one.keyOf(token)).not.toContain(token);
  });

  it('forgets entries after the TTL and when the user changes', () => {
    const clock = manualClock();
    const cache = createVerificationCache<string>({ ttlMs: 1000, maxEntries: 10, clock });
    const key = cache.keyOf('a');
    cache.set(key, { userId: 'usr_1', username: 'alice', value: 'identity' }, cache.generation());
    expect(cache.get(key)?.value).toBe('identity');
    clock.advance(1000);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, { userId: 'usr_1', username: 'alice', value: 'identity' }, cache.generation());
    cache.invalidateUser('usr_2');
    expect(cache.get(key)).toBeDefined();
    cache.invalidateUser('usr_1');
    expect(cache.get(key)).toBeUndefined();
  });

  it('does not store a verification that began before an invalidation', () => {
    const cache = createVerificationCache<string>({ ttlMs: 1000, maxEntries: 10, clock: manualClock() });
    const stamp = cache.generation();
    cache.invalidateUser('usr_1'); // e.g. the password changed while argon2 was running
    cache.set(cache.keyOf('a'), { userId: 'usr_1', username: 'alice', value: 'stale' }, stamp);
    expect(cache.get(cache.keyOf('a'))).toBeUndefined();
  });

  it('drops the oldest entries beyond its bound, and stores nothing with a TTL of 0', () => {
    const cache = createVerificationCache<number>({ ttlMs: 1000, maxEntries: 3, clock: manualClock() });
    for (let i = 0; i < 5; i++)
      cache.set(cache.keyOf(String(i)), { userId: `usr_${i}`, username: `user${i}`, value: i }, cache.generation());
    expect(cache.size).toBe(3);
    expect(cache.get(cache.keyOf('0'))).toBeUndefined();
    expect(cache.get(cache.keyOf('4'))?.value).toBe(4);
    const off = createVerificationCache<number>({ ttlMs: 0, maxEntries: 3, clock: manualClock() });
    off.set(off.keyOf('x'), { userId: 'usr_x', username: 'x', value: 1 }, off.generation());
    expect(off.enabled).toBe(false);
    expect(off.get(off.keyOf('x'))).toBeUndefined();
  });
});
