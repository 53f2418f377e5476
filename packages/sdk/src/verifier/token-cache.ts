/**
 * The verified-token cache: a token seen before is answered without verifying its signature again
 * (services see the same token for minutes). Bounded (oldest entries go first), and an entry never
 * outlives the token's `exp` — not even by the leeway — nor the key that verified it: when a kid
 * leaves the JWKS, the tokens it verified leave the cache. Keyed by the token string itself (the
 * JWT core refuses non-canonical spellings, so one token has one key), looked up in one Map probe.
 */
import type { Identity } from '../identity.js';

interface Entry {
  readonly identity: Identity;
  /** `exp` in milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, now: number): Identity | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now < entry.expiresAt) return entry.identity;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, identity: Identity, expiresAt: number, kid: string, now: number): void {
    if (this.maxEntries <= 0 || expiresAt <= now) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: the first entry is the oldest.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { identity, expiresAt, kid });
  }

  /** Forgets the tokens verified by keys that are no longer trusted. */
  removeKids(kids: readonly string[] | 'all'): void {
    if (kids === 'all') {
      this.entries.clear();
      return;
    }
    for (const [token, entry] of this.entries) if (kids.includes(entry.kid)) this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
