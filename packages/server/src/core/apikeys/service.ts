/**
 * API keys as a service: issuing, changing and revoking keys (for the admin API) and verifying
 * them (the `apikey` authenticator). It owns the verification cache, so every change made through
 * this instance invalidates the affected keys at once; other instances see a change within the
 * cache TTL (docs/api-keys.md).
 */
import type { Clock } from '../audit/audit.js';
import type { Authenticator } from '../pipeline/types.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { RateLimitRule } from '../ratelimit/rate.js';
import { createApiKeyAuthenticator } from './authenticator.js';
import { hashApiKey, hexToDigest } from './hash.js';
import { createKeyCache, type KeyCacheStats } from './key-cache.js';
import { createKeyParser, generateApiKey } from './key-format.js';
import { createLastUsedRecorder } from './last-used.js';
import type { ApiKey, ApiKeyChanges, ApiKeyQuery, ApiKeyStore, ChangeRefusal, UpdateResult } from './model.js';
import { createApiKeyVerifier, type VerifiableKey } from './verify.js';

export interface ApiKeySettings {
  /** Prefix of issued keys (`gk`, `gk_live`); only keys with it are verified. */
  readonly prefix: string;
  /** Lower-case name of the header that carries a key. */
  readonly header: string;
  readonly queryParam: boolean;
  readonly cacheTtlMs: number;
  readonly negativeCacheTtlMs: number;
  readonly cacheSize: number;
  readonly staleIfErrorMs: number;
  readonly lastUsedFlushMs: number;
}

export interface NewApiKey {
  readonly name: string;
  readonly owner: string | null;
  readonly scopes: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly rateLimit: RateLimitRule | null;
  readonly remainingUses: number | null;
  readonly expiresAt: string | null;
}

/** A key just issued: the only moment its plaintext exists outside the caller's hands. */
export interface IssuedKey {
  readonly key: ApiKey;
  readonly plaintext: string;
}

export type RotateOutcome =
  | { readonly ok: true; readonly old: ApiKey; readonly issued: IssuedKey }
  | { readonly ok: false; readonly reason: ChangeRefusal | 'expired' };

export interface ApiKeyServiceStats extends KeyCacheStats {
  readonly cachedKeys: number;
  readonly cachedUnknown: number;
}

export interface ApiKeyService {
  readonly authenticator: Authenticator;
  create(input: NewApiKey): Promise<IssuedKey>;
  get(id: string): Promise<ApiKey | undefined>;
  list(query: Omit<ApiKeyQuery, 'now'>): Promise<{ keys: ApiKey[]; nextCursor: string | null }>;
  update(id: string, changes: ApiKeyChanges): Promise<UpdateResult>;
  /** Revokes at once; `changed` is false when the key was already revoked. */
  revoke(id: string): Promise<{ key: ApiKey; changed: boolean } | undefined>;
  /**
   * Issues a replacement with the same name, subject (owner, or for an ownerless key its id as the
   * replacement's owner), scopes, metadata, limits and (unless `expiresAt` is given) expiry; the
   * old key keeps working for `graceMs`, then stops.
   */
  rotate(id: string, options: { graceMs: number; expiresAt?: string | null }): Promise<RotateOutcome>;
  stats(): ApiKeyServiceStats;
  /** Writes pending `last_used_at` times now (they are otherwise written on a timer). */
  flush(): Promise<void>;
  /** Stops the timer and writes pending `last_used_at` times. */
  close(): Promise<void>;
}

export interface ApiKeyServiceOptions {
  readonly store: ApiKeyStore;
  readonly settings: ApiKeySettings;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly newId: () => string;
  /** Called when `last_used_at` times cannot be written (they are retried). */
  readonly onLastUsedError?: (error: unknown, pending: number) => void;
}

export function createApiKeyService(options: ApiKeyServiceOptions): ApiKeyService {
  const { store, settings, clock } = options;
  const parser = createKeyParser(settings.prefix);
  const cache = createKeyCache<VerifiableKey>({
    clock,
    ttlMs: settings.cacheTtlMs,
    negativeTtlMs: settings.negativeCacheTtlMs,
    maxEntries: settings.cacheSize,
    staleIfErrorMs: settings.staleIfErrorMs,
  });
  const lastUsed = createLastUsedRecorder({
    store,
    intervalMs: settings.lastUsedFlushMs,
    ...(options.onLastUsedError ? { onError: options.onLastUsedError } : {}),
  });
  const verifier = createApiKeyVerifier({ parser, cache, store, limiter: options.limiter, lastUsed, clock });
  const authenticator = createApiKeyAuthenticator({
    verifier,
    prefix: settings.prefix,
    header: settings.header,
    queryParam: settings.queryParam,
  });

  const isoNow = () => new Date(clock.now()).toISOString();
  const invalidate = (ids: readonly string[]) => {
    const changed = new Set(ids);
    cache.invalidate((entry) => changed.has(entry.key.id));
  };

  /** A fresh key with its stored form; the plaintext leaves only through the returned value. */
  const mint = (id: string, input: NewApiKey, now: string, rotatedFrom: string | null): IssuedKey => {
    const plaintext = generateApiKey(settings.prefix);
    return {
      plaintext,
      key: {
        id,
        name: input.name,
        owner: input.owner,
        prefix: settings.prefix,
        last4: plaintext.slice(-4),
        keyHash: hashApiKey(plaintext),
        scopes: [...input.scopes],
        metadata: input.metadata,
        rateLimit: input.rateLimit,
        remainingUses: input.remainingUses,
        createdAt: now,
        updatedAt: now,
        expiresAt: input.expiresAt,
        lastUsedAt: null,
        revokedAt: null,
        replacedBy: null,
        graceUntil: null,
        rotatedFrom,
      },
    };
  };

  return {
    authenticator,

    async create(input) {
      const issued = mint(options.newId(), input, isoNow(), null);
      await store.insert(issued.key);
      cache.forget(hexToDigest(issued.key.keyHash));
      return issued;
    },

    get: (id) => store.findById(id),

    list: (query) => store.list({ ...query, now: isoNow() }),

    async update(id, changes) {
      const result = await store.update(id, changes, isoNow());
      if (result.ok) invalidate([id]);
      return result;
    },

    async revoke(id) {
      const result = await store.revoke(id, isoNow());
      if (result) invalidate([id]);
      return result;
    },

    async rotate(id, { graceMs, expiresAt }) {
      const now = clock.now();
      const nowIso = new Date(now).toISOString();
      const current = await store.findById(id);
      if (!current) return { ok: false, reason: 'not_found' };
      const newExpiry = expiresAt === undefined ? current.expiresAt : expiresAt;
      // A replacement born expired would be useless: the caller must give it a new expiry. (A
      // revoked or rotated key is refused by the store's rotation, with that reason.)
      if (current.revokedAt === null && current.replacedBy === null && newExpiry !== null && newExpiry <= nowIso) {
        return { ok: false, reason: 'expired' };
      }
      let issued: IssuedKey | undefined;
      const result = await store.rotate(
        id,
        (old) => {
          // The replacement authenticates as the same subject: an ownerless key's subject is its
          // own id, so the replacement takes that id as its owner (upstreams keyed on
          // X-Auth-Subject see no change, and the route's per-subject rate limits carry on).
          const owner = old.owner ?? old.id;
          issued = mint(options.newId(), { ...old, owner, expiresAt: newExpiry }, nowIso, old.id);
          return issued.key;
        },
        new Date(now + graceMs).toISOString(),
        nowIso,
      );
      if (!result.ok) return result;
      invalidate(result.affected);
      return { ok: true, old: result.old, issued: issued as IssuedKey };
    },

    stats: () => ({ ...cache.stats, cachedKeys: cache.size.found, cachedUnknown: cache.size.unknown }),

    flush: () => lastUsed.flush(),

    close: () => lastUsed.close(),
  };
}
