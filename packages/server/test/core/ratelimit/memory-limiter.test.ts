import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from '../../../src/core/ratelimit/limiter.js';
import { createMemoryRateLimiter } from '../../../src/core/ratelimit/memory-limiter.js';
import { manualClock } from '../../support/clock.js';

const MINUTE = 60_000;
const perMinute = (limit: number) => ({ limit, windowMs: MINUTE });

describe('in-memory sliding-window rate limiter', () => {
  it('allows up to the limit within a window, then denies without counting the denials', () => {
    const clock = manualClock(10 * MINUTE);
    const limiter = createMemoryRateLimiter({ clock });
    const remaining = [];
    for (let i = 0; i < 5; i++) {
      const result = limiter.consume('k', perMinute(5));
      expect(result.allowed).toBe(true);
      remaining.push(result.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    for (let i = 0; i < 3; i++) expect(limiter.consume('k', perMinute(5)).allowed).toBe(false);
    // Keys are independent.
    expect(limiter.consume('other', perMinute(5)).allowed).toBe(true);
  });

  it('does not let a client send twice the limit across a window boundary', () => {
    const clock = manualClock(10 * MINUTE + MINUTE - 1000);
    const limiter = createMemoryRateLimiter({ clock });
    for (let i = 0; i < 10; i++) expect(limiter.consume('k', perMinute(10)).allowed).toBe(true);
    clock.advance(2000); // 1 s into the next window: the previous one still weighs 59/60
    expect(limiter.consume('k', perMinute(10)).allowed).toBe(false);
    clock.advance(6000); // 7 s in: 10 × 53/60 = 8.8, so one more fits
    expect(limiter.consume('k', perMinute(10)).allowed).toBe(true);
    expect(limiter.consume('k', perMinute(10)).allowed).toBe(false);
  });

  it('answers a Retry-After after which the next request is allowed, and not a millisecond sooner', () => {
    for (const [offset, used] of [
      [5000, 10],
      [45_000, 3],
      [59_000, 10],
    ] as const) {
      const start = 20 * MINUTE + offset;
      const clock = manualClock(start - MINUTE);
      const limiter = createMemoryRateLimiter({ clock });
      // Fill part of the previous window, then the current one up to the limit.
      for (let i = 0; i < used; i++) limiter.consume('k', perMinute(10));
      clock.set(start);
      while (limiter.consume('k', perMinute(10)).allowed) {
        /* fill */
      }
      const denied = limiter.consume('k', perMinute(10));
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.resetMs).toBeGreaterThanOrEqual(denied.retryAfterMs);
      clock.advance(denied.retryAfterMs - 1);
      expect(limiter.consume('k', perMinute(10)).allowed, `offset ${offset}: early`).toBe(false);
      clock.advance(1);
      expect(limiter.consume('k', perMinute(10)).allowed, `offset ${offset}: on time`).toBe(true);
    }
  });

  it('recovers the full limit after two idle windows and reports when that happens', () => {
    const clock = manualClock(30 * MINUTE);
    const limiter = createMemoryRateLimiter({ clock });
    const first = limiter.consume('k', perMinute(3));
    expect(first.resetMs).toBe(2 * MINUTE);
    limiter.consume('k', perMinute(3));
    clock.advance(2 * MINUTE);
    expect(limiter.consume('k', perMinute(3)).remaining).toBe(2);
  });

  it('keeps memory bounded: beyond maxKeys the least recently used counter is forgotten', () => {
    const clock = manualClock(40 * MINUTE);
    const limiter = createMemoryRateLimiter({ clock, maxKeys: 100 });
    limiter.consume('hot', perMinute(1));
    for (let i = 0; i < 99; i++) limiter.consume(`cold-${i}`, perMinute(1));
    expect(limiter.consume('hot', perMinute(1)).allowed).toBe(false); // tracked, and now most recently used
    limiter.consume('newcomer', perMinute(1)); // the 101st key evicts the least recently used: cold-0
    expect(limiter.consume('hot', perMinute(1)).allowed).toBe(false);
    expect(limiter.consume('cold-0', perMinute(1)).allowed).toBe(true);
  });

  it('starts over when the window of a key changes', () => {
    const clock = manualClock(50 * MINUTE);
    const limiter = createMemoryRateLimiter({ clock });
    limiter.consume('k', perMinute(1));
    expect(limiter.consume('k', perMinute(1)).allowed).toBe(false);
    expect(limiter.consume('k', { limit: 1, windowMs: 1000 }).allowed).toBe(true);
  });

  it('renders the draft-ietf-httpapi-ratelimit-headers fields and Retry-After in whole seconds', () => {
    const rule = perMinute(100);
    expect(
      rateLimitHeaders({ allowed: true, limit: 100, remaining: 42, resetMs: 30_500, retryAfterMs: 0 }, rule),
    ).toEqual({
      'ratelimit-limit': '100',
      'ratelimit-remaining': '42',
      'ratelimit-reset': '31',
      'ratelimit-policy': '100;w=60',
    });
    const denied = rateLimitHeaders(
      { allowed: false, limit: 100, remaining: 0, resetMs: 90_000, retryAfterMs: 1 },
      rule,
    );
    expect(denied['retry-after']).toBe('1');
  });
});
