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
import { createKeyParser, generateApiKey, legacyKeyProblem, SHA256_HEX } from './key-format.js';
import { createLastUsedRecorder } from './last-used.js';
import type { ApiKey, ApiKeyChanges, ApiKeyQuery, ApiKeyStore, ChangeRefusal, UpdateResult } from './model.js';
import { createApiKeyVerifier, type LegacyGate, type VerifiableKey } from './verify.js';

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

/** One key of an import (`apikey import`): its plaintext, or the SHA-256 (hex) of it. */
export interface LegacyKeyInput {
  /** Where it came from (the file's line, or the JSON array's index + 1), for error messages. */
  readonly line: number;
  readonly name: string;
  readonly owner: string | null;
  readonly scopes: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly expiresAt: string | null;
  readonly key?: string | undefined;
  readonly sha256?: string | undefined;
}

export type ImportOutcome =
  | { readonly ok: true; readonly keys: ReadonlyArray<{ readonly line: number; readonly key: ApiKey }> }
  | { readonly ok: false; readonly problems: readonly string[] };

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
  /**
   * Imports keys another system issued, marked legacy: all of them in one transaction, or none
   * (every problem is answered, each naming its line).
   */
  importLegacy(keys: readonly LegacyKeyInput[]): Promise<ImportOutcome>;
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
  /** Called when a legacy key verifies: at most once per key per `LEGACY_WARNING_INTERVAL_MS`. */
  readonly onLegacyKeyUsed?: (key: ApiKey) => void;
}

/** How often one legacy key's use is reported (a log warning and an audit event). */
export const LEGACY_WARNING_INTERVAL_MS = 3_600_000;

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
  const isoNow = () => new Date(clock.now()).toISOString();

  // Whether the store holds a live legacy key, asked again at most once per cache TTL (the time
  // another instance's changes take to be seen here), and at once after a change made here. On a
  // store error the last answer stands; without one, the error fails the verification closed.
  let legacyKnown: { open: boolean; until: number } | undefined;
  let legacyAsking: Promise<boolean> | undefined;
  const legacyGate: LegacyGate = {
    open() {
      const now = clock.now();
      if (legacyKnown !== undefined && now < legacyKnown.until) return legacyKnown.open;
      legacyAsking ??= store
        .hasLiveLegacyKeys(new Date(now).toISOString())
        .then(
          (open) => {
            legacyKnown = { open, until: clock.now() + settings.cacheTtlMs };
            return open;
          },
          (error: unknown) => {
            if (legacyKnown !== undefined) return legacyKnown.open;
            throw error;
          },
        )
        .finally(() => {
          legacyAsking = undefined;
        });
      return legacyAsking;
    },
  };
  const legacyChanged = () => {
    legacyKnown = undefined;
  };
  // Asked once at start, so that a store outage later finds an answer to keep.
  void Promise.resolve(legacyGate.open()).catch(() => {});

  // The last warning per legacy key: bounded by the number of legacy keys.
  const legacyWarned = new Map<string, number>();
  const onLegacyUse = (key: ApiKey) => {
    if (!options.onLegacyKeyUsed) return;
    const now = clock.now();
    const last = legacyWarned.get(key.id);
    if (last !== undefined && now - last < LEGACY_WARNING_INTERVAL_MS) return;
    legacyWarned.set(key.id, now);
    options.onLegacyKeyUsed(key);
  };

  const verifier = createApiKeyVerifier({
    parser,
    cache,
    store,
    limiter: options.limiter,
    lastUsed,
    clock,
    legacy: legacyGate,
    onLegacyUse,
  });
  const authenticator = createApiKeyAuthenticator({
    verifier,
    prefix: settings.prefix,
    header: settings.header,
    queryParam: settings.queryParam,
  });

  const invalidate = (ids: readonly string[]) => {
    const changed = new Set(ids);
    cache.invalidate((entry) => changed.has(entry.key.id));
  };

  /** The stored form of a new key: nothing used, revoked or replaced yet. */
  const newRecord = (
    id: string,
    input: Pick<NewApiKey, 'name' | 'owner' | 'scopes' | 'metadata' | 'expiresAt'>,
    now: string,
    secret: Pick<ApiKey, 'prefix' | 'last4' | 'keyHash' | 'rateLimit' | 'remainingUses' | 'rotatedFrom' | 'legacy'>,
  ): ApiKey => ({
    id,
    name: input.name,
    owner: input.owner,
    scopes: [...input.scopes],
    metadata: input.metadata,
    createdAt: now,
    updatedAt: now,
    expiresAt: input.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
    replacedBy: null,
    graceUntil: null,
    ...secret,
  });

  /** A fresh key with its stored form; the plaintext leaves only through the returned value. */
  const mint = (id: string, input: NewApiKey, now: string, rotatedFrom: string | null): IssuedKey => {
    const plaintext = generateApiKey(settings.prefix);
    return {
      plaintext,
      key: newRecord(id, input, now, {
        prefix: settings.prefix,
        last4: plaintext.slice(-4),
        keyHash: hashApiKey(plaintext),
        rateLimit: input.rateLimit,
        remainingUses: input.remainingUses,
        rotatedFrom,
        legacy: false,
      }),
    };
  };

  /** Checks an import; answers the keys to insert, or every problem found (by line). */
  const prepareImport = (inputs: readonly LegacyKeyInput[], now: string) => {
    const problems: string[] = [];
    const keys: Array<{ line: number; key: ApiKey }> = [];
    const firstLine = new Map<string, number>();
    for (const input of inputs) {
      const at = `line ${input.line}`;
      if ((input.key === undefined) === (input.sha256 === undefined)) {
        problems.push(`${at}: give either the key or its sha256, not ${input.key === undefined ? 'neither' : 'both'}`);
        continue;
      }
      let keyHash: string;
      if (input.key !== undefined) {
        const problem = legacyKeyProblem(input.key, parser);
        if (problem) {
          problems.push(`${at}: the key ${problem}`);
          continue;
        }
        keyHash = hashApiKey(input.key);
      } else {
        const given = input.sha256 as string;
        if (!SHA256_HEX.test(given)) {
          problems.push(`${at}: sha256 must be the 64 hexadecimal digits of the key's SHA-256`);
          continue;
        }
        keyHash = given.toLowerCase();
      }
      const earlier = firstLine.get(keyHash);
      if (earlier !== undefined) {
        problems.push(`${at}: the same key as line ${earlier}`);
        continue;
      }
      firstLine.set(keyHash, input.line);
      keys.push({
        line: input.line,
        // Nothing of a legacy key is shown: no prefix, no last four (the text may be anything).
        key: newRecord(options.newId(), input, now, {
          prefix: '',
          last4: '',
          keyHash,
          rateLimit: null,
          remainingUses: null,
          rotatedFrom: null,
          legacy: true,
        }),
      });
    }
    return { problems, keys, lineOf: firstLine };
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
      if (result?.key.legacy) legacyChanged();
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
      if (result.old.legacy) legacyChanged();
      return { ok: true, old: result.old, issued: issued as IssuedKey };
    },

    async importLegacy(inputs) {
      if (inputs.length === 0) return { ok: false, problems: ['the import holds no keys'] };
      const { problems, keys, lineOf } = prepareImport(inputs, isoNow());
      if (problems.length > 0) return { ok: false, problems };
      const inserted = await store.insertAll(keys.map((item) => item.key));
      if (!inserted.ok) {
        return {
          ok: false,
          problems: inserted.clashes.map((hash) => `line ${lineOf.get(hash)}: this key is already stored`),
        };
      }
      for (const { key } of keys) cache.forget(hexToDigest(key.keyHash));
      legacyChanged();
      return { ok: true, keys };
    },

    stats: () => ({ ...cache.stats, cachedKeys: cache.size.found, cachedUnknown: cache.size.unknown }),

    flush: () => lastUsed.flush(),

    close: () => lastUsed.close(),
  };
}
