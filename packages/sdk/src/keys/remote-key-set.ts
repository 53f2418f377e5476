/**
 * The issuer's JWKS, cached. The rules, in order:
 * 1. keys are fetched from the configured (or discovered) URL only; a token never names where
 *    keys come from (docs/security.md #3), it only picks one of ours by kid;
 * 2. a known kid is answered from memory, synchronously; when the set is older than its freshness
 *    (the server's `Cache-Control: max-age`, capped by `cacheMaxAge`) it is refreshed in the
 *    background while the cached keys keep answering;
 * 3. an unknown kid refetches the set once, at most once per `cooldown` (and concurrent lookups
 *    share that one fetch), so a flood of random kids costs the issuer one request per cooldown;
 * 4. when the issuer is unreachable or answers garbage, the cached keys keep working for
 *    `maxStale` past their freshness (docs/security.md: JWT verification keeps working from cached
 *    keys); retries back off from 1 s to 30 s;
 * 5. with no usable keys at all, lookups fail closed with {@link VerifierUnavailableError} naming
 *    the cause, quickly (the last error is answered during the backoff, never a hang).
 */
import { RemoteDocumentError, VerifierUnavailableError } from '../errors.js';
import { fetchJson } from '../http/fetch-json.js';
import { backoffMs } from '../http/issuer-metadata.js';
import { KeySetError, type PublicAlgorithm, type PublishedKey, parseKeySet } from './jwks.js';

/** Where a verifier finds the key for a kid. */
export interface KeySource<K> {
  /** The key for `kid`, synchronously when cached; a rejection means "cannot decide" (503). */
  lookup(kid: string): K | undefined | Promise<K | undefined>;
  /** Resolves once keys are usable; rejects with the reason they are not. */
  ready(): Promise<void>;
}

export type KeySetEvent =
  | {
      readonly type: 'jwks_refreshed';
      readonly url: string;
      readonly kids: readonly string[];
      readonly skipped: readonly string[];
    }
  | { readonly type: 'jwks_refresh_failed'; readonly error: RemoteDocumentError; readonly servingCachedKeys: boolean }
  | { readonly type: 'jwks_expired'; readonly error: RemoteDocumentError | undefined };

export interface RemoteKeySetOptions<K> {
  /** The JWKS URL (resolved through discovery on first use). */
  readonly url: () => Promise<string>;
  /** Turns a vetted public JWK into the key the engine verifies with (off the hot path). */
  readonly importKey: (key: PublishedKey) => Promise<K>;
  readonly algorithms: ReadonlySet<PublicAlgorithm>;
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Longest time a fetched set counts as fresh (the server's max-age may shorten it). */
  readonly cacheMaxAgeMs: number;
  /** Minimum time between fetches caused by unknown kids. */
  readonly cooldownMs: number;
  /** How long past freshness cached keys keep answering while refreshes fail. */
  readonly maxStaleMs: number;
  readonly now: () => number;
  /** Told when kids disappear (or every key is dropped: `'all'`), to purge verified-token caches. */
  readonly onKeysRemoved?: (kids: readonly string[] | 'all') => void;
  readonly onEvent?: ((event: KeySetEvent) => void) | undefined;
}

interface CachedKey<K> {
  readonly fingerprint: string;
  readonly key: K;
}

export class RemoteKeySet<K> implements KeySource<K> {
  private keys: Map<string, CachedKey<K>> | undefined;
  /** Fresh until this time; usable (stale) until `freshUntil + maxStale`. */
  private freshUntil = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private lastError: RemoteDocumentError | undefined;
  private inflight: Promise<void> | undefined;

  constructor(private readonly options: RemoteKeySetOptions<K>) {}

  lookup(kid: string): K | undefined | Promise<K | undefined> {
    const now = this.options.now();
    const keys = this.usableKeys(now);
    if (keys === undefined) return this.lookupWithoutKeys(kid, now);
    if (now >= this.freshUntil && this.mayAttempt(now)) void this.refresh().catch(() => {});
    const cached = keys.get(kid);
    if (cached !== undefined) return cached.key;
    // Unknown kid: perhaps a key published since our last fetch. Refetch once, rate-limited.
    if (this.inflight) return this.inflight.then(() => this.keys?.get(kid)?.key).catch(() => undefined);
    if (now - this.lastAttemptAt < this.options.cooldownMs || !this.mayAttempt(now)) return undefined;
    return this.refresh().then(
      () => this.keys?.get(kid)?.key,
      () => undefined,
    );
  }

  async ready(): Promise<void> {
    const now = this.options.now();
    if (this.usableKeys(now)) return;
    if (!this.inflight && !this.mayAttempt(now)) throw this.unavailable();
    await (this.inflight ?? this.refresh()).catch(() => {});
    if (!this.usableKeys(this.options.now())) throw this.unavailable();
  }

  private lookupWithoutKeys(kid: string, now: number): Promise<K | undefined> {
    if (!this.inflight && !this.mayAttempt(now)) return Promise.reject(this.unavailable());
    return (this.inflight ?? this.refresh()).then(
      () => {
        const keys = this.usableKeys(this.options.now());
        if (keys === undefined) throw this.unavailable();
        return keys.get(kid)?.key;
      },
      () => {
        throw this.unavailable();
      },
    );
  }

  /** The cached keys while they may be used; drops them (fail closed) once too stale. */
  private usableKeys(now: number): Map<string, CachedKey<K>> | undefined {
    if (this.keys !== undefined && now >= this.freshUntil + this.options.maxStaleMs) {
      this.keys = undefined;
      this.options.onKeysRemoved?.('all');
      this.emit({ type: 'jwks_expired', error: this.lastError });
    }
    return this.keys;
  }

  /** After a failure, wait 1 s, 2 s, 4 s … 30 s before asking again. */
  private mayAttempt(now: number): boolean {
    if (this.inflight) return false;
    return this.failures === 0 || now - this.lastAttemptAt >= backoffMs(this.failures);
  }

  private unavailable(): VerifierUnavailableError {
    const cause = this.lastError;
    const retryAfter = Math.ceil(backoffMs(Math.max(1, this.failures)) / 1000);
    if (!cause) return new VerifierUnavailableError('ERR_JWKS_UNAVAILABLE', 'No verification keys are available yet');
    return new VerifierUnavailableError(cause.code, `No usable verification keys: ${cause.message}`, {
      cause,
      retryAfter,
    });
  }

  /** One fetch at a time; everyone who needs it shares it. */
  private refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = this.options.now();
    this.inflight = this.fetchAndImport().then(
      () => {
        this.inflight = undefined;
      },
      (error: unknown) => {
        this.inflight = undefined;
        this.failures += 1;
        this.lastError =
          error instanceof RemoteDocumentError
            ? error
            : new RemoteDocumentError('ERR_JWKS_UNAVAILABLE', '', `JWKS: ${String(error)}`, { cause: error });
        this.emit({ type: 'jwks_refresh_failed', error: this.lastError, servingCachedKeys: this.keys !== undefined });
        throw this.lastError;
      },
    );
    return this.inflight;
  }

  private async fetchAndImport(): Promise<void> {
    const url = await this.options.url();
    const { body, headers } = await fetchJson(url, {
      what: 'JWKS',
      fetch: this.options.fetch,
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBytes,
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    let parsed: ReturnType<typeof parseKeySet>;
    try {
      parsed = parseKeySet(body, this.options.algorithms);
    } catch (error) {
      if (error instanceof KeySetError)
        throw new RemoteDocumentError(error.code, url, `JWKS at ${url} ${error.message}`);
      throw error;
    }
    const next = new Map<string, CachedKey<K>>();
    const skipped = [...parsed.skipped];
    for (const published of parsed.keys) {
      const fingerprint = JSON.stringify([published.alg, published.jwk]);
      const previous = this.keys?.get(published.kid);
      if (previous?.fingerprint === fingerprint) {
        next.set(published.kid, previous);
        continue;
      }
      try {
        next.set(published.kid, { fingerprint, key: await this.options.importKey(published) });
      } catch (error) {
        skipped.push(`kid ${published.kid}: ${(error as Error).message}`);
      }
    }
    if (next.size === 0) {
      throw new RemoteDocumentError(
        'ERR_JWKS_NO_USABLE_KEYS',
        url,
        `JWKS at ${url} has no usable signature verification key: ${skipped.join('; ')}`,
      );
    }
    const removed = [...(this.keys?.keys() ?? [])].filter((kid) => next.get(kid) !== this.keys?.get(kid));
    const now = this.options.now();
    this.keys = next;
    this.freshUntil = now + freshnessMs(headers.get('cache-control'), this.options);
    this.failures = 0;
    this.lastError = undefined;
    if (removed.length > 0) this.options.onKeysRemoved?.(removed);
    this.emit({ type: 'jwks_refreshed', url, kids: [...next.keys()], skipped });
  }

  private emit(event: KeySetEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A throwing listener must not break verification.
    }
  }
}

/** The server's max-age (RFC 9111 §5.2.2.1), never longer than ours, never shorter than the cooldown. */
function freshnessMs(cacheControl: string | null, options: { cacheMaxAgeMs: number; cooldownMs: number }): number {
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl ?? '');
  const noCache = /(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl ?? '');
  const server = noCache ? 0 : maxAge ? Number(maxAge[1]) * 1000 : options.cacheMaxAgeMs;
  return Math.max(options.cooldownMs, Math.min(options.cacheMaxAgeMs, server));
}

/**
 * Keys given in code (a JWKS object, PEM public keys, an HS256 secret): nothing to fetch. A key
 * configured without a kid answers any kid (one-key setups); with kids, only its own.
 */
export class StaticKeySource<K> implements KeySource<K> {
  private readonly byKid = new Map<string, K>();
  private readonly anyKid: K | undefined;

  constructor(keys: ReadonlyArray<{ readonly kid: string | undefined; readonly key: K }>) {
    let anyKid: K | undefined;
    for (const { kid, key } of keys) {
      if (kid === undefined) {
        if (keys.length > 1) throw new TypeError('When several static keys are configured, each needs a kid');
        anyKid = key;
      } else {
        if (this.byKid.has(kid)) throw new TypeError(`Static key kid ${kid} is configured twice`);
        this.byKid.set(kid, key);
      }
    }
    this.anyKid = anyKid;
  }

  lookup(kid: string): K | undefined {
    return this.byKid.get(kid) ?? this.anyKid;
  }

  async ready(): Promise<void> {}
}
