/**
 * Remembers successful Basic verifications for a short time, so that a client sending the same
 * credentials on every request pays for argon2id once per TTL instead of once per request.
 *
 * - Entries are keyed by HMAC-SHA-256, under a key drawn at random when the process starts, of
 *   the exact base64 credential (a one-to-one encoding of `user-id:password`; only canonical
 *   base64 is accepted). Neither the password nor an unkeyed hash of it is kept: a memory dump
 *   does not allow offline guessing without the per-process key, which never leaves the process.
 * - Only successful verifications are stored, so a hit proves the same credentials were right a
 *   moment ago; failures always take the full path (and the throttle). A hit is not an answer
 *   by itself: the caller first asks the throttle about this client (../basic/basic-authenticator.ts).
 * - `invalidateUser` (password change, disable, delete, any change) drops a user's entries at
 *   once on this instance. Other instances notice within the TTL: keep it short.
 * - A verification that started before an invalidation is not stored (the generation check),
 *   so a password change racing a login cannot leave the old password remembered.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../audit/audit.js';

export interface CachedVerification<T> {
  readonly userId: string;
  /** The canonical username: the throttle's key, checked before a hit may answer. */
  readonly username: string;
  readonly value: T;
}

export interface VerificationCache<T> {
  readonly enabled: boolean;
  /** The HMAC of a credential: the key to look up and to store. */
  keyOf(token68: string): string;
  get(key: string): CachedVerification<T> | undefined;
  /** A stamp to take before verifying; `set` refuses stamps older than the last invalidation. */
  generation(): number;
  set(key: string, entry: CachedVerification<T>, generation: number): void;
  invalidateUser(userId: string): void;
  readonly size: number;
  /** Lookups answered from the cache and not, for /metrics. */
  readonly stats: { readonly hits: number; readonly misses: number };
}

interface Entry<T> extends CachedVerification<T> {
  readonly expiresAt: number;
}

export function createVerificationCache<T>(options: {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly clock: Clock;
}): VerificationCache<T> {
  const { ttlMs, maxEntries, clock } = options;
  const secret = randomBytes(32);
  const entries = new Map<string, Entry<T>>();
  const keysByUser = new Map<string, Set<string>>();
  let generation = 0;
  const stats = { hits: 0, misses: 0 };

  const forget = (key: string, entry: Entry<T>) => {
    entries.delete(key);
    const keys = keysByUser.get(entry.userId);
    keys?.delete(key);
    if (keys?.size === 0) keysByUser.delete(entry.userId);
  };

  return {
    enabled: ttlMs > 0,
    keyOf: (token68) => createHmac('sha256', secret).update(token68, 'latin1').digest('base64'),
    get(key) {
      if (ttlMs <= 0) return undefined;
      const entry = entries.get(key);
      if (!entry) {
        stats.misses++;
        return undefined;
      }
      if (entry.expiresAt <= clock.now()) {
        forget(key, entry);
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      return entry;
    },
    generation: () => generation,
    set(key, entry, stamp) {
      if (ttlMs <= 0 || stamp !== generation) return;
      const previous = entries.get(key);
      if (previous) forget(key, previous);
      entries.set(key, { ...entry, expiresAt: clock.now() + ttlMs });
      const keys = keysByUser.get(entry.userId) ?? new Set<string>();
      keysByUser.set(entry.userId, keys);
      keys.add(key);
      // Oldest first in insertion order: drop from the front when over the bound.
      for (const [oldKey, oldEntry] of entries) {
        if (entries.size <= maxEntries) break;
        forget(oldKey, oldEntry);
      }
    },
    invalidateUser(userId) {
      generation++;
      for (const key of keysByUser.get(userId) ?? []) entries.delete(key);
      keysByUser.delete(userId);
    },
    get size() {
      return entries.size;
    },
    stats,
  };
}
