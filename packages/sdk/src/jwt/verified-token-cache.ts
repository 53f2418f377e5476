/**
 * The verified-token cache shared by the server's JWT authenticator and the SDK's verifier: a token
 * seen before is answered without verifying its signature again (clients reuse a token for
 * minutes). Bounded (oldest entries go first), and an entry never answers past the token's `exp`.
 * Entries record the `kid` that verified them, so callers can drop what a removed key or a
 * revocation no longer vouches for.
 *
 * An entry is found by the token's signature segment and answers only for the very token string
 * it was stored with (the JWT core refuses non-canonical spellings, so one token has one string).
 * Looking up by the whole token would hash all of it on every request — a Map hashes a string one
 * character at a time, about 0.9 µs for a 700-character token, more than the rest of a cached
 * answer — while the signature is a few dozen random characters; the full comparison that follows
 * is a memory compare. Two different tokens never share a signature unless one is a forgery, and
 * even then the comparison keeps the entry from answering for the wrong string.
 */

/** What the cache needs of an entry; callers add what they remember (the identity…). */
export interface CachedTokenEntry {
  /** The token's `exp`, in milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
}

interface Slot<E> {
  readonly token: string;
  readonly entry: E;
}

/**
 * The signature segment: what follows the last dot (the whole text when there is none). Found by
 * a loop from the end rather than `lastIndexOf`, which V8 runs in C++ behind a runtime call that
 * costs more than walking back over a signature.
 */
function signatureOf(token: string): string {
  let dot = token.length - 1;
  while (dot >= 0 && token.charCodeAt(dot) !== 46) dot--; // '.'
  return token.slice(dot + 1);
}

export class VerifiedTokenCache<E extends CachedTokenEntry> {
  private readonly slots = new Map<string, Slot<E>>();
  /** Lookups answered from the cache and not (for metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly maxEntries: number) {}

  get(token: string, now: number): E | undefined {
    const signature = signatureOf(token);
    const slot = this.slots.get(signature);
    if (slot !== undefined && slot.token === token) {
      if (now < slot.entry.expiresAt) {
        this.stats.hits++;
        return slot.entry;
      }
      this.slots.delete(signature);
    }
    this.stats.misses++;
    return undefined;
  }

  set(token: string, entry: E, now: number): void {
    if (this.maxEntries <= 0 || entry.expiresAt <= now) return;
    const signature = signatureOf(token);
    if (this.slots.size >= this.maxEntries && !this.slots.has(signature)) {
      // Map iteration is insertion order: the first entry is the oldest.
      const oldest = this.slots.keys().next();
      if (!oldest.done) this.slots.delete(oldest.value);
    }
    this.slots.set(signature, { token, entry });
  }

  /** Drops every entry the predicate matches; answers how many went. */
  drop(predicate: (entry: E) => boolean): number {
    let dropped = 0;
    for (const [signature, slot] of this.slots) {
      if (predicate(slot.entry)) {
        this.slots.delete(signature);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.slots.size;
  }
}
