/**
 * Verifying a presented API key: an ordered list of checks, the first failure deciding, expected
 * denials answered as data and only infrastructure failures thrown (the HTTP layer answers 503,
 * never an allow: docs/security.md #35).
 *
 *  1. shape and checksum                    no store (./key-format.ts); only the length is
 *                                           checked when memory knows the hash: the cache holds
 *                                           only hashes of texts that passed both checks, so a
 *                                           key whose hash is cached has them right by construction
 *  2. exists: cache, else store, by hash    then compared in constant time
 *  3. not revoked
 *  4. not rotated past its grace period
 *  5. not expired                           against the clock, on every request, cached or not
 *  6. within its rate limit                 before the use count, so a throttled call spends no use
 *  7. has the required scopes               if not, no use is spent and the pipeline answers 403
 *  8. a use left                            taken atomically in the store, never from the cache
 *
 * Legacy keys (imported, ./key-format.ts `legacyShaped`): a text that is not shaped like one of
 * our keys is refused at step 1 as before, unless the store holds a live legacy key
 * (`LegacyGate`, re-asked at most once per cache TTL); then a text that could be a legacy key
 * (20–128 printable characters) is hashed and looked up like any key, and must find a record
 * marked legacy. A text shaped like our keys is never looked up as a legacy key, so a mistyped
 * `gk_` key is still refused without a lookup. What bounds lookups under a flood of invented
 * texts is what already bounds them for invented keys with a valid checksum (which anyone can
 * compute): one indexed point lookup per distinct text, concurrent ones shared, repeats answered
 * by the negative cache, the length capped before hashing — and none at all once no legacy key
 * is left.
 *
 * The trade-off of step 8: a key with a use count costs one store write per verification (a
 * cached count would let concurrent instances, or a race in this one, spend more uses than the
 * key has). Keys without a count, the common case, are verified from memory.
 */
import type { Clock } from '../audit/audit.js';
import type { Identity } from '../pipeline/types.js';
import { type RateLimiter, type RateLimitResult, rateLimitHeaders } from '../ratelimit/limiter.js';
import type { RateLimitRule } from '../ratelimit/rate.js';
import { apiKeyDigest, digestToHex, sameDigest } from './hash.js';
import type { KeyCache } from './key-cache.js';
import { type KeyParser, legacyShaped, type MalformedReason } from './key-format.js';
import type { LastUsedRecorder } from './last-used.js';
import { type ApiKey, type ApiKeyStore, usageKeyId } from './model.js';

/** A stored key prepared for verification: times as numbers, identity built once. */
export interface VerifiableKey {
  readonly key: ApiKey;
  readonly hash: Buffer;
  readonly revoked: boolean;
  readonly graceUntilMs: number;
  readonly expiresAtMs: number;
  readonly usageId: string;
  /** The rate limiter's key for `usageId`, built once. */
  readonly limiterKey: string;
  readonly rateLimit: RateLimitRule | null;
  readonly identity: Identity;
}

export type DenialReason =
  | MalformedReason
  | 'unknown'
  | 'revoked'
  | 'rotated'
  | 'expired'
  | 'rate_limited'
  | 'exhausted'
  /** Asked for a memory-only answer, and memory does not know the key (see `verify`). */
  | 'uncached';

export type Verdict =
  | { readonly ok: true; readonly key: VerifiableKey; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly ok: false;
      readonly reason: DenialReason;
      /** The key's id when the key exists (for audit), never for malformed or unknown keys. */
      readonly keyId?: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

type RecordCheck = (key: VerifiableKey, now: number) => DenialReason | undefined;

/** Steps 3–5: what the stored record alone decides. */
const RECORD_CHECKS: readonly RecordCheck[] = [
  function notRevoked(key) {
    return key.revoked ? 'revoked' : undefined;
  },
  function notRotatedPastGrace(key, now) {
    return now >= key.graceUntilMs ? 'rotated' : undefined;
  },
  function notExpired(key, now) {
    return now >= key.expiresAtMs ? 'expired' : undefined;
  },
];

export function toVerifiableKey(key: ApiKey): VerifiableKey {
  return {
    key,
    hash: Buffer.from(key.keyHash, 'hex'),
    revoked: key.revokedAt !== null,
    graceUntilMs: key.graceUntil === null ? Number.POSITIVE_INFINITY : Date.parse(key.graceUntil),
    expiresAtMs: key.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(key.expiresAt),
    usageId: usageKeyId(key),
    limiterKey: `apikey:${usageKeyId(key)}`,
    rateLimit: key.rateLimit,
    identity: Object.freeze({
      subject: key.owner ?? key.id,
      method: 'apikey',
      scopes: Object.freeze([...key.scopes]),
      clientId: key.id,
      credentialId: key.id,
      claims: Object.freeze({ name: key.name, metadata: key.metadata }),
    }),
  };
}

/** Whether legacy keys are looked up at all: the store's answer, or a promise of it when stale. */
export interface LegacyGate {
  open(): boolean | Promise<boolean>;
}

export interface VerifierOptions {
  readonly parser: KeyParser;
  /** Absent: legacy keys are never looked up. */
  readonly legacy?: LegacyGate;
  /** Called on each accepted legacy key (the service throttles the warning it turns into). */
  readonly onLegacyUse?: (key: ApiKey) => void;
  readonly cache: KeyCache<VerifiableKey>;
  readonly store: Pick<ApiKeyStore, 'findByHash' | 'consumeUse'>;
  readonly limiter: RateLimiter;
  readonly lastUsed: LastUsedRecorder;
  readonly clock: Clock;
}

export interface ApiKeyVerifier {
  /**
   * Verifies a presented key. `requiredScopes` only decides whether a use is spent (step 7); the
   * scope decision itself is the pipeline's. Synchronous when memory can answer. `memoryOnly`
   * (the client has spent its verification failure budget): a key the cache does not hold is
   * `uncached`, without a store lookup.
   */
  verify(presented: string, requiredScopes?: readonly string[], memoryOnly?: boolean): Verdict | Promise<Verdict>;
}

export function createApiKeyVerifier(options: VerifierOptions): ApiKeyVerifier {
  const { parser, cache, store, limiter, lastUsed, clock } = options;
  const denials = new Map<DenialReason, Verdict>();
  const deny = (reason: DenialReason, keyId?: string, headers?: Record<string, string>): Verdict => {
    if (keyId === undefined) {
      // Denials without a key id are the same object every time: no allocation under a flood.
      let verdict = denials.get(reason);
      if (!verdict) {
        verdict = Object.freeze({ ok: false, reason });
        denials.set(reason, verdict);
      }
      return verdict;
    }
    return headers ? { ok: false, reason, keyId, headers } : { ok: false, reason, keyId };
  };

  const lookup = async (digest: string) => {
    const key = await store.findByHash(digestToHex(digest));
    return key ? toVerifiableKey(key) : undefined;
  };

  const accept = (found: VerifiableKey, now: number, headers: Record<string, string> | undefined): Verdict => {
    lastUsed.touch(found.key.id, now);
    if (found.key.legacy) options.onLegacyUse?.(found.key);
    return headers ? { ok: true, key: found, headers } : { ok: true, key: found };
  };

  /** Steps 7–8. */
  const spendUse = (
    found: VerifiableKey,
    now: number,
    limited: RateLimitResult | undefined,
    requiredScopes: readonly string[] | undefined,
  ): Verdict | Promise<Verdict> => {
    const headers = limited && found.rateLimit ? rateLimitHeaders(limited, found.rateLimit) : undefined;
    if (limited && !limited.allowed) return deny('rate_limited', found.key.id, headers);
    const scopesMissing = requiredScopes?.some((scope) => !found.identity.scopes.includes(scope)) ?? false;
    if (found.key.remainingUses === null || scopesMissing) return accept(found, now, headers);
    return store
      .consumeUse(found.usageId)
      .then((left) => (left === undefined ? deny('exhausted', found.key.id) : accept(found, now, headers)));
  };

  /** Steps 2 (comparison) to 8, once the record (or its absence) is known. */
  const decide = (
    found: VerifiableKey | null,
    presentedDigest: string,
    now: number,
    requiredScopes: readonly string[] | undefined,
  ): Verdict | Promise<Verdict> => {
    // The lookup was by hash; comparing in constant time is defence in depth (docs/security.md #29).
    if (found === null || !sameDigest(found.hash, presentedDigest)) return deny('unknown');
    for (const check of RECORD_CHECKS) {
      const reason = check(found, now);
      if (reason) return deny(reason, found.key.id);
    }
    if (found.rateLimit === null) return spendUse(found, now, undefined, requiredScopes);
    const limited = limiter.consume(found.limiterKey, found.rateLimit);
    return limited instanceof Promise
      ? limited.then((result) => spendUse(found, now, result, requiredScopes))
      : spendUse(found, now, limited, requiredScopes);
  };

  const onlyLegacy = (found: VerifiableKey | null) => (found?.key.legacy ? found : null);

  /** A legacy key's record, looked up by hash; only records marked legacy count. */
  const loadLegacy = (hashed: string, requiredScopes: readonly string[] | undefined): Promise<Verdict> =>
    cache
      .load(hashed, () => lookup(hashed))
      .then((found) => decide(onlyLegacy(found), hashed, clock.now(), requiredScopes));

  /** A text that is not one of our keys: refused, unless legacy keys exist and it could be one. */
  const notOurs = (
    presented: string,
    reason: DenialReason,
    digest: string | undefined,
    requiredScopes: readonly string[] | undefined,
    memoryOnly: boolean,
  ): Verdict | Promise<Verdict> => {
    const { legacy } = options;
    if (legacy === undefined || !legacyShaped(presented)) return deny(reason);
    const open = legacy.open();
    // No live legacy key: refused on its shape, not even hashed.
    if (open === false) return deny(reason);
    const hashed = digest ?? apiKeyDigest(presented);
    // A legacy key seen recently is answered from memory, also while the gate is being asked
    // (and while the store is down).
    const now = clock.now();
    const cached = cache.peek(hashed, now);
    if (cached !== undefined) return decide(onlyLegacy(cached), hashed, now, requiredScopes);
    if (memoryOnly) return deny('uncached');
    if (open === true) return loadLegacy(hashed, requiredScopes);
    // Otherwise the answer waits for the gate. If the gate cannot be asked (the store is down and
    // was never asked), the text is refused as what it looks like: a denial, as the format check
    // gives it, never an allow.
    return open.then(
      (isOpen) => (isOpen ? loadLegacy(hashed, requiredScopes) : deny(reason)),
      () => deny(reason),
    );
  };

  return {
    verify(presented, requiredScopes, memoryOnly = false) {
      // Every key of ours has one length: anything else is refused before it is hashed (so a huge
      // text is never hashed), with the precise reason — or, while legacy keys exist, looked up
      // as one when it could be one.
      if (presented.length !== parser.length) {
        return notOurs(presented, parser.checkShape(presented) ?? 'malformed', undefined, requiredScopes, memoryOnly);
      }
      const digest = apiKeyDigest(presented);
      const now = clock.now();
      const cached = cache.peek(digest, now);
      // The cache only holds hashes of texts that passed the checks below (a stored key, or a
      // well-formed unknown one, `null`; or a text looked up as a legacy key), so a hit needs
      // none of them again.
      if (cached !== undefined) return decide(cached, digest, now, requiredScopes);
      if (memoryOnly) return deny('uncached');
      const malformed = parser.checkShape(presented);
      if (malformed) return notOurs(presented, malformed, digest, requiredScopes, memoryOnly);
      // Shaped like ours: a wrong checksum is a typo, refused without a lookup (never tried as legacy).
      if (!parser.checksumMatches(presented)) return deny('bad_checksum');
      return cache
        .load(digest, () => lookup(digest))
        .then((found) => decide(found, digest, clock.now(), requiredScopes));
    },
  };
}
