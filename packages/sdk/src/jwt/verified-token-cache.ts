/**
 * The verified-token cache shared by the server's JWT authenticator and the SDK's verifier: a token
 * seen before is answered without verifying its signature again (clients reuse a token for
 * minutes). Bounded (oldest entries go first), and an entry never answers past the token's `exp`.
 * Keyed by the token string itself (the JWT core refuses non-canonical spellings, so one token has
 * one key), looked up in one Map probe. Entries record the `kid` that verified them, so callers can
 * drop what a removed key or a revocation no longer vouches for.
 */

/** What the cache needs of an entry; callers add what they remember (the identity…). */
export interface CachedTokenEntry {
  /** The token's `exp`, in milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
}

export class VerifiedTokenCache<E extends CachedTokenEntry> {
  private readonly entries = new Map<string, E>();
  /** Lookups answered from the cache and not (for metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly maxEntries: number) {}

  get(token: string, now: number): E | undefined {
    const entry = this.entries.get(token);
    if (entry !== undefined && now < entry.expiresAt) {
      this.stats.hits++;
      return entry;
    }
    if (entry !== undefined) this.entries.delete(token);
    this.stats.misses++;
    return undefined;
  }

  set(token: string, entry: E, now: number): void {
    if (this.maxEntries <= 0 || entry.expiresAt <= now) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: the first entry is the oldest.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }

  /** Drops every entry the predicate matches; answers how many went. */
  drop(predicate: (entry: E) => boolean): number {
    let dropped = 0;
    for (const [token, entry] of this.entries) {
      if (predicate(entry)) {
        this.entries.delete(token);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }
}
