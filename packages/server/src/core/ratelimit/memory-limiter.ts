/**
 * The in-memory rate limiter: a sliding-window counter per key (the estimate Cloudflare and
 * nginx-style limiters use). Windows are aligned to multiples of the window length; the count
 * of the previous window is weighted by how much of it still overlaps the sliding window:
 *
 *   estimate = previous × (window − elapsed) / window + current
 *
 * Unlike a fixed window, a client cannot send twice the limit across a window boundary; unlike a
 * log of timestamps, each key costs three numbers. Keys live in an LRU map bounded by `maxKeys`:
 * when more keys are active than that, the least recently used one forgets its count (so the
 * bound is memory, never correctness of an active key under normal load).
 */
import type { Clock } from '../audit/audit.js';
import { LruMap } from '../cache/lru-map.js';
import type { RateLimiter, RateLimitResult } from './limiter.js';
import type { RateLimitRule } from './rate.js';

interface Counter {
  windowMs: number;
  /** Start of the current aligned window. */
  start: number;
  previous: number;
  current: number;
}

export interface MemoryRateLimiterOptions {
  readonly clock: Clock;
  /** Distinct keys tracked at once (default 100 000, about 10 MB). */
  readonly maxKeys?: number;
}

/** The in-memory limiter answers synchronously. */
export interface MemoryRateLimiter extends RateLimiter {
  consume(key: string, rule: RateLimitRule, cost?: number): RateLimitResult;
}

export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): MemoryRateLimiter {
  const counters = new LruMap<string, Counter>(options.maxKeys ?? 100_000);

  return {
    consume(key: string, rule: RateLimitRule, cost = 1): RateLimitResult {
      const now = options.clock.now();
      const { limit, windowMs } = rule;
      const start = now - (now % windowMs);
      let counter = counters.get(key);
      if (!counter || counter.windowMs !== windowMs) {
        counter = { windowMs, start, previous: 0, current: 0 };
        counters.set(key, counter);
      } else if (counter.start !== start) {
        counter.previous = counter.start === start - windowMs ? counter.current : 0;
        counter.current = 0;
        counter.start = start;
      }
      const toWindowEnd = windowMs - (now - start);
      const estimate = (counter.previous * toWindowEnd) / windowMs + counter.current;
      if (estimate + cost > limit) {
        const retryAfterMs = retryAfter(counter, rule, toWindowEnd, cost);
        return { allowed: false, limit, remaining: 0, resetMs: fullReset(counter, toWindowEnd), retryAfterMs };
      }
      counter.current += cost;
      const remaining = Math.max(0, Math.floor(limit - estimate - cost));
      return { allowed: true, limit, remaining, resetMs: fullReset(counter, toWindowEnd), retryAfterMs: 0 };
    },
  };
}

/**
 * When the whole limit is available again: this window's requests weigh on the estimate until
 * the end of the next window, the previous window's until the end of this one.
 */
function fullReset(counter: Counter, toWindowEnd: number): number {
  if (counter.current > 0) return toWindowEnd + counter.windowMs;
  return counter.previous > 0 ? toWindowEnd : 0;
}

/**
 * The shortest wait after which `cost` more fits: either later in this window, once enough of
 * the previous window has slid out, or in the next one, once enough of this one has.
 */
function retryAfter(counter: Counter, rule: RateLimitRule, toWindowEnd: number, cost: number): number {
  const { limit, windowMs } = rule;
  const room = limit - counter.current - cost;
  if (counter.previous > 0 && room >= 0) {
    // previous × (toWindowEnd − t) / window + current + cost ≤ limit
    return Math.max(1, Math.ceil(toWindowEnd - (room * windowMs) / counter.previous));
  }
  // In the next window, this window's count is the weighted one: current × (window − t') / window + cost ≤ limit.
  const inNext = counter.current > 0 ? windowMs * (1 - (limit - cost) / counter.current) : 0;
  return Math.max(1, Math.ceil(toWindowEnd + Math.max(0, inNext)));
}
