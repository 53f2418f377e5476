/**
 * The public keys of `private_key_jwt` clients registered with a `jwks_uri` (RFC 7523 §2.2,
 * RFC 7591 §2). Documents are fetched through the outbound fetch policy (../outbound/fetch-port.ts),
 * kept per client for `maxAgeMs`, and refetched when an assertion names a `kid` the cached set
 * lacks (the client rotated its keys) — but at most once per `refetchCooldownMs` per client,
 * failures included, so a stream of assertions with made-up `kid`s (or a JWKS host that is down)
 * costs one fetch per client per cooldown, not one per request.
 *
 * A refused or failed fetch answers `KeySetUnavailable`, which client authentication turns into
 * `401 invalid_client`: a client whose keys cannot be had does not authenticate.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, errors as joseErrors } from 'jose';
import type { Clock } from '../audit/audit.js';
import type { OutboundFetcher } from '../outbound/fetch-port.js';

/** The keys of a client could not be had: `reason` is the fetch refusal (`address_refused`, `too_large`…). */
export class KeySetUnavailable extends Error {
  readonly code = 'ERR_CLIENT_JWKS_UNAVAILABLE';
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'KeySetUnavailable';
  }
}

export interface ClientKeySetOptions {
  readonly fetcher: OutboundFetcher;
  readonly clock: Clock;
  /** How long a fetched document is used before it is fetched again. */
  readonly maxAgeMs?: number;
  /** Least time between two fetches for one client (unknown `kid`, or after a failure). */
  readonly refetchCooldownMs?: number;
}

export interface ClientKeySets {
  /** A jose key resolver for the client's `jwks_uri`. */
  keysFor(clientId: string, jwksUri: string): JWTVerifyGetKey;
  /** Forgets a client's cached document (its registration changed). */
  forget(clientId: string): void;
}

interface Entry {
  readonly uri: string;
  keys: JWTVerifyGetKey | null;
  /** The last fetch's failure, answered until the cooldown allows another try. */
  failure: KeySetUnavailable | null;
  fetchedAt: number;
  attemptedAt: number;
  pending: Promise<void> | null;
}

const DEFAULT_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_COOLDOWN_MS = 30_000;

export function createClientKeySets(options: ClientKeySetOptions): ClientKeySets {
  const { fetcher, clock } = options;
  const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const cooldown = options.refetchCooldownMs ?? DEFAULT_COOLDOWN_MS;
  const entries = new Map<string, Entry>();

  async function load(entry: Entry): Promise<void> {
    entry.attemptedAt = clock.now();
    const result = await fetcher.get(entry.uri, { accept: 'application/jwk-set+json, application/json' });
    if (!result.ok) {
      entry.failure = new KeySetUnavailable(result.reason, `jwks_uri: ${result.detail}`);
      return;
    }
    let document: unknown;
    try {
      document = JSON.parse(Buffer.from(result.body).toString('utf8'));
    } catch {
      entry.failure = new KeySetUnavailable('invalid_jwks', 'jwks_uri: the answer is not JSON');
      return;
    }
    // RFC 7517 §5: a JWK Set is an object with a "keys" array.
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) {
      entry.failure = new KeySetUnavailable('invalid_jwks', 'jwks_uri: the answer is not a JWK Set');
      return;
    }
    try {
      entry.keys = createLocalJWKSet(document as JSONWebKeySet);
    } catch {
      entry.failure = new KeySetUnavailable('invalid_jwks', 'jwks_uri: the answer is not a JWK Set');
      return;
    }
    entry.failure = null;
    entry.fetchedAt = clock.now();
  }

  /** Fetches unless one is under way or the cooldown since the last attempt has not passed. */
  async function refresh(entry: Entry): Promise<void> {
    if (entry.pending) return entry.pending;
    if (entry.attemptedAt !== 0 && clock.now() - entry.attemptedAt < cooldown) return;
    entry.pending = load(entry).finally(() => {
      entry.pending = null;
    });
    return entry.pending;
  }

  function entryFor(clientId: string, jwksUri: string): Entry {
    let entry = entries.get(clientId);
    if (!entry || entry.uri !== jwksUri) {
      entry = { uri: jwksUri, keys: null, failure: null, fetchedAt: 0, attemptedAt: 0, pending: null };
      entries.set(clientId, entry);
    }
    return entry;
  }

  return {
    keysFor(clientId, jwksUri) {
      return async (header, token) => {
        const entry = entryFor(clientId, jwksUri);
        if (!entry.keys || clock.now() - entry.fetchedAt >= maxAge) await refresh(entry);
        const keys = entry.keys;
        if (!keys) throw entry.failure ?? new KeySetUnavailable('jwks_unavailable', 'jwks_uri: no keys fetched yet');
        try {
          return await keys(header, token);
        } catch (error) {
          if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
          // An unknown kid: the client may have rotated. One refetch per cooldown, then retry once.
          const before = entry.keys;
          await refresh(entry);
          if (entry.keys === before || !entry.keys) throw error;
          return entry.keys(header, token);
        }
      };
    },
    forget(clientId) {
      entries.delete(clientId);
    },
  };
}
