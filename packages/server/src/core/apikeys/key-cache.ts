/**
 * The verification cache, keyed by key hash (`apiKeyDigest` in ./hash.ts), so that a key seen
 * recently is verified without the store. Two bounded LRU maps, so that a flood of invented keys
 * (each a negative entry) can never evict the positive entries of real keys:
 *
 * - found keys, fresh for `ttlMs`: the checks (revoked, expired, grace…) still run on every
 *   request against the cached record and the current time, so a cached key is never served past
 *   its `expires_at` or its grace period; what the TTL bounds is how long a change made by
 *   *another* instance (a revocation) can take to be seen here;
 * - unknown hashes, for the shorter `negativeTtlMs`, so a client retrying a wrong key does not
 *   cost a store lookup per attempt.
 *
 * Changes made through this instance invalidate at once. A generation counter closes the race
 * where a lookup that started before an invalidation would put the old record back afterwards;
 * concurrent lookups of one hash share one store query.
 *
 * With `staleIfErrorMs` (off by default; docs/security.md "store outage": an optional, bounded
 * last-known-good window for API keys only) a found key past its TTL may still answer for that
 * long while the store is failing; never a negative entry, and never beyond the checks above.
 */
import type { Clock } from '../audit/audit.js';
import { LruMap } from '../cache/lru-map.js';

export interface KeyCacheOptions {
  readonly clock: Clock;
  /** How long a found key is served from memory; 0 disables positive caching. */
  readonly ttlMs: number;
  /** How long an unknown hash is remembered; 0 disables negative caching. */
  readonly negativeTtlMs: number;
  /** Bound of each map (found keys; unknown hashes). */
  readonly maxEntries: number;
  /** Last-known-good window while the store fails; 0 (the default) fails closed at once. */
  readonly staleIfErrorMs?: number;
}

export interface KeyCacheStats {
  /** Store lookups made (cache misses that reached the store). */
  lookups: number;
  hits: number;
  negativeHits: number;
  /** Verifications answered from a stale entry because the store failed. */
  staleServed: number;
}

interface Entry<V> {
  readonly value: V;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

export interface KeyCache<V> {
  /**
   * The cached value, `null` for a hash known to be unknown, `undefined` when the store must be
   * asked; `now` defaults to the clock's (a caller that needs the time anyway passes its own).
   */
  peek(hash: string, now?: number): V | null | undefined;
  /** Asks the store (once for concurrent callers), caches the answer and returns it. */
  load(hash: string, loader: () => Promise<V | undefined>): Promise<V | null>;
  /** Drops every found entry the predicate matches (after a change made through this instance). */
  invalidate(match: (value: V) => boolean): void;
  /** Forgets that a hash was unknown (after a key with that hash is created). */
  forget(hash: string): void;
  readonly stats: Readonly<KeyCacheStats>;
  readonly size: { readonly found: number; readonly unknown: number };
}

export function createKeyCache<V>(options: KeyCacheOptions): KeyCache<V> {
  const { clock, ttlMs, negativeTtlMs } = options;
  const staleMs = options.staleIfErrorMs ?? 0;
  const found = new LruMap<string, Entry<V>>(options.maxEntries);
  const unknown = new LruMap<string, number>(options.maxEntries);
  const inflight = new Map<string, Promise<V | null>>();
  const stats: KeyCacheStats = { lookups: 0, hits: 0, negativeHits: 0, staleServed: 0 };
  let generation = 0;

  const remember = (hash: string, value: V | undefined): void => {
    const now = clock.now();
    if (value === undefined) {
      if (negativeTtlMs > 0) unknown.set(hash, now + negativeTtlMs);
    } else if (ttlMs > 0 || staleMs > 0) {
      found.set(hash, { value, freshUntil: now + ttlMs, staleUntil: now + ttlMs + staleMs });
    }
  };

  return {
    stats,
    get size() {
      return { found: found.size, unknown: unknown.size };
    },
    peek(hash, now = clock.now()) {
      const entry = found.get(hash);
      if (entry) {
        if (now < entry.freshUntil) {
          stats.hits++;
          return entry.value;
        }
        if (now >= entry.staleUntil) found.delete(hash);
        return undefined;
      }
      const until = unknown.get(hash);
      if (until !== undefined) {
        if (now < until) {
          stats.negativeHits++;
          return null;
        }
        unknown.delete(hash);
      }
      return undefined;
    },
    load(hash, loader) {
      const pending = inflight.get(hash);
      if (pending) return pending;
      const started = generation;
      // Declared first: a loader that fails synchronously reaches `finally` before the assignment.
      let flight: Promise<V | null> | undefined;
      flight = (async () => {
        try {
          stats.lookups++;
          const value = await loader();
          // An invalidation while the query ran may have made this answer stale: use it for this
          // request (which started before the change), but do not keep it.
          if (started === generation) remember(hash, value);
          return value ?? null;
        } catch (error) {
          const entry = found.get(hash);
          if (entry && clock.now() < entry.staleUntil) {
            stats.staleServed++;
            return entry.value;
          }
          throw error;
        } finally {
          if (inflight.get(hash) === flight) inflight.delete(hash);
        }
      })();
      inflight.set(hash, flight);
      return flight;
    },
    invalidate(match) {
      generation++;
      inflight.clear();
      found.deleteWhere((entry) => match(entry.value));
    },
    forget(hash) {
      unknown.delete(hash);
    },
  };
}
