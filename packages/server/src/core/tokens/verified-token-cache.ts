/**
 * Tokens seen before, remembered after full verification so that a client reusing its token for
 * minutes costs a map lookup instead of a signature check (issue 5 item 9). Bounded (oldest
 * entries leave first), never answers past the token's `exp`, and entries go when their token is
 * revoked or their key is deleted. Revocation is still checked on every hit, so revocations
 * synced from other instances apply to cached tokens too.
 */
import type { Identity } from '../pipeline/types.js';

export interface CachedVerification {
  readonly identity: Identity;
  /** `exp` in milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
}

export interface VerifiedTokenCache {
  get(token: string, now: number): CachedVerification | undefined;
  set(token: string, entry: CachedVerification, now: number): void;
  /** Drops every entry the predicate matches. */
  drop(predicate: (entry: CachedVerification) => boolean): number;
  readonly size: number;
  /** Lookups answered from the cache and not, for /metrics. */
  readonly stats: { readonly hits: number; readonly misses: number };
}

export function createVerifiedTokenCache(limit: number): VerifiedTokenCache {
  const entries = new Map<string, CachedVerification>();
  const stats = { hits: 0, misses: 0 };
  return {
    stats,
    get(token, now) {
      const entry = entries.get(token);
      if (entry === undefined) {
        stats.misses++;
        return undefined;
      }
      if (entry.expiresAt <= now) {
        entries.delete(token);
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      return entry;
    },
    set(token, entry, now) {
      if (limit <= 0 || entry.expiresAt <= now) return;
      if (entries.size >= limit) {
        // Map iterates in insertion order: the first key is the oldest entry.
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, entry);
    },
    drop(predicate) {
      let dropped = 0;
      for (const [token, entry] of entries) {
        if (predicate(entry)) {
          entries.delete(token);
          dropped++;
        }
      }
      return dropped;
    },
    get size() {
      return entries.size;
    },
  };
}
