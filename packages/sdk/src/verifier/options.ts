/**
 * The verifier's options: every default in one place, checked once at construction (a mistake is
 * a TypeError naming the option, at startup, not a 500 at the first request), then frozen.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import type { ClientAuthentication } from '../client/client-auth.js';
import { checkClientAuthentication } from '../client/client-auth.js';
import { checkEndpointUrl } from '../http/issuer-metadata.js';
import type { JwtAlgorithm } from '../jwt/keys.js';
import { DEFAULT_LEEWAY_SECONDS, DEFAULT_MAX_TOKEN_LENGTH, MAX_LEEWAY_SECONDS } from '../jwt/rules.js';
import type { KeySetEvent } from '../keys/remote-key-set.js';
import type { CredentialKind } from './credentials.js';

/** A public key given as PEM (SPKI), for issuers without a JWKS. */
export interface PemPublicKey {
  readonly pem: string;
  readonly alg: 'ES256' | 'EdDSA' | 'RS256';
  /** Matches the token's `kid`; omit for a single key that answers any kid. */
  readonly kid?: string;
}

/** An HS256 shared secret, with the `kid` Gatehouse signs with (omit: any kid). */
export interface SharedSecret {
  readonly secret: string | Uint8Array;
  readonly kid?: string;
}

export interface VerifierOptions {
  /**
   * The issuer identifier, exactly as tokens carry it in `iss` (no normalisation, RFC 9068 §4),
   * e.g. `https://auth.example.com`. Keys and endpoints are discovered from it.
   */
  readonly issuer: string;
  /** This service's audience: a token's `aud` must contain it (or one of these). Required. */
  readonly audience: string | readonly string[];
  /** The JWKS URL, instead of discovering it from the issuer's metadata. */
  readonly jwksUri?: string;
  /** Static public keys instead of a JWKS URL: a JWK Set, or a list of JWKs and PEM keys. */
  readonly keys?: JSONWebKeySet | ReadonlyArray<JWK | PemPublicKey>;
  /**
   * An HS256 shared secret (Gatehouse's `keys.hs256_secret`): bytes, or text as Gatehouse takes
   * it (hex of 64+ characters, or base64url of 43+), at least 32 bytes.
   */
  readonly secret?: string | Uint8Array | SharedSecret;
  /** Accepted `typ` values (RFC 8725 §3.11); default `['at+jwt']` (RFC 9068 access tokens). */
  readonly types?: readonly string[];
  /** Algorithms accepted at all; each key is further pinned to its own. Default: all four. */
  readonly algorithms?: readonly JwtAlgorithm[];
  /** Claims a token must carry besides `iss`, `aud`, `exp`; default `['sub']`. */
  readonly requiredClaims?: readonly string[];
  /** Clock skew allowed on `exp`/`nbf`/`iat`, seconds: default 30, at most 300. */
  readonly leewaySeconds?: number;
  /** Longer tokens are refused before decoding; default 8192 characters. */
  readonly maxTokenLength?: number;
  /** Verified tokens remembered (until their `exp`); default 10 000, 0 turns the cache off. */
  readonly cacheSize?: number;

  /** Deadline for every call to the issuer (metadata, JWKS, introspection), ms; default 5000. */
  readonly timeout?: number;
  /** Longest a fetched JWKS counts as fresh, ms (the server's max-age may shorten it); default 600 000. */
  readonly jwksCacheMaxAge?: number;
  /** At most one JWKS fetch per this many ms for unknown kids; default 30 000. */
  readonly jwksCooldown?: number;
  /** How long cached keys keep working past freshness while the issuer is unreachable, ms; default 3 600 000. */
  readonly jwksMaxStale?: number;
  /** Largest JWKS accepted, bytes; default 262 144. */
  readonly jwksMaxBytes?: number;

  /**
   * Which credentials this service accepts. Default `['jwt']`: access tokens, verified locally.
   * `apikey`, `basic` and `opaque` (non-JWT bearer tokens) are verified by asking the issuer.
   */
  readonly accept?: readonly CredentialKind[];
  /** The header API keys come in; default `x-api-key` (Gatehouse's `apikeys.header`). */
  readonly apiKeyHeader?: string;
  /** The prefix of API keys sent as bearer tokens; default `gk` (Gatehouse's `apikeys.prefix`). */
  readonly apiKeyPrefix?: string;
  /** Client credentials to introspect opaque tokens (RFC 7662); without them, `/auth/verify` is asked. */
  readonly introspection?: ClientAuthentication;
  /** How long an answer of the issuer about a credential is reused, ms; default 30 000. */
  readonly remoteCacheTtl?: number;
  /** How long a refusal of the issuer is reused, ms; default 5000. */
  readonly remoteNegativeCacheTtl?: number;
  /** Answers of the issuer remembered; default 10 000. */
  readonly remoteCacheSize?: number;
  /** Gatehouse's forward-auth endpoint; default `<issuer>/auth/verify`. */
  readonly verifyEndpoint?: string;
  /** The introspection endpoint; default: from the issuer's metadata, else `<issuer>/oauth/introspect`. */
  readonly introspectionEndpoint?: string;

  /** Allow plain http to non-loopback hosts (a trusted internal network). Default false. */
  readonly allowHttp?: boolean;
  /** The fetch to use (a proxy agent, tests); default the global one. */
  readonly fetch?: typeof globalThis.fetch;
  /** The clock, ms since the epoch (tests); default `Date.now`. */
  readonly clock?: () => number;
  /** Told about JWKS refreshes and failures, for logs and metrics. Never receives a token. */
  readonly onEvent?: (event: KeySetEvent) => void;
}

export interface ResolvedOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly jwksUri: string | undefined;
  readonly types: readonly string[];
  readonly algorithms: ReadonlySet<JwtAlgorithm>;
  readonly requiredClaims: readonly string[];
  readonly leewaySeconds: number;
  readonly maxTokenLength: number;
  readonly cacheSize: number;
  readonly timeout: number;
  readonly jwksCacheMaxAge: number;
  readonly jwksCooldown: number;
  readonly jwksMaxStale: number;
  readonly jwksMaxBytes: number;
  readonly accept: ReadonlySet<CredentialKind>;
  readonly apiKeyHeader: string;
  readonly apiKeyPrefix: string;
  readonly introspection: ClientAuthentication | undefined;
  readonly remoteCacheTtl: number;
  readonly remoteNegativeCacheTtl: number;
  readonly remoteCacheSize: number;
  readonly verifyEndpoint: string | undefined;
  readonly introspectionEndpoint: string | undefined;
  readonly allowHttp: boolean;
  readonly fetch: typeof globalThis.fetch;
  readonly clock: () => number;
  readonly onEvent: ((event: KeySetEvent) => void) | undefined;
}

const CREDENTIAL_KINDS: readonly CredentialKind[] = ['jwt', 'apikey', 'basic', 'opaque'];
const ALL_ALGORITHMS: readonly JwtAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];

function duration(value: number | undefined, fallback: number, name: string, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`${name} must be a number of milliseconds ≥ ${min}`);
  }
  return value;
}

function count(value: number | undefined, fallback: number, name: string, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be an integer ≥ ${min}`);
  return value;
}

export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('createVerifier needs options');
  const { issuer, audience } = options;
  if (typeof issuer !== 'string' || issuer.length === 0) throw new TypeError('issuer is required');
  // docs/security.md #8: aud must contain us; a verifier without an audience would accept any token.
  const audiences = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a)) {
    throw new TypeError('audience is required: this service’s audience, as tokens carry it in aud');
  }
  const allowHttp = options.allowHttp === true;
  const staticKeys = options.keys !== undefined || options.secret !== undefined;
  if (options.jwksUri !== undefined && staticKeys) throw new TypeError('Give jwksUri or keys/secret, not both');
  const accept = new Set<CredentialKind>(options.accept ?? ['jwt']);
  for (const kind of accept) {
    if (!CREDENTIAL_KINDS.includes(kind)) {
      throw new TypeError(`accept: unknown credential kind ${JSON.stringify(kind)} (${CREDENTIAL_KINDS.join(', ')})`);
    }
  }
  const remote = accept.has('apikey') || accept.has('basic') || accept.has('opaque');
  // The issuer is fetched from when keys are discovered or credentials are sent to it.
  if ((accept.has('jwt') && !staticKeys && options.jwksUri === undefined) || remote) {
    checkEndpointUrl(issuer, 'issuer', allowHttp);
  }
  if (options.jwksUri !== undefined) checkEndpointUrl(options.jwksUri, 'jwksUri', allowHttp);
  if (options.verifyEndpoint !== undefined) checkEndpointUrl(options.verifyEndpoint, 'verifyEndpoint', allowHttp);
  if (options.introspectionEndpoint !== undefined) {
    checkEndpointUrl(options.introspectionEndpoint, 'introspectionEndpoint', allowHttp);
  }
  if (options.introspection !== undefined) checkClientAuthentication(options.introspection, 'introspection');
  const algorithms = new Set(options.algorithms ?? ALL_ALGORITHMS);
  for (const alg of algorithms) {
    if (!ALL_ALGORITHMS.includes(alg)) throw new TypeError(`algorithms: ${JSON.stringify(alg)} is not supported`);
  }
  const types = options.types ?? ['at+jwt'];
  if (!Array.isArray(types) || types.length === 0 || !types.every((type) => typeof type === 'string' && type)) {
    throw new TypeError('types must name at least one token type');
  }
  const leewaySeconds = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!(typeof leewaySeconds === 'number' && leewaySeconds >= 0 && leewaySeconds <= MAX_LEEWAY_SECONDS)) {
    // docs/security.md #8: leeway of a few minutes at most.
    throw new TypeError(`leewaySeconds must be from 0 to ${MAX_LEEWAY_SECONDS}`);
  }
  const apiKeyHeader = (options.apiKeyHeader ?? 'x-api-key').toLowerCase();
  if (!/^[a-z0-9-]+$/.test(apiKeyHeader) || apiKeyHeader === 'authorization') {
    throw new TypeError('apiKeyHeader must be a header name other than authorization');
  }
  const apiKeyPrefix = options.apiKeyPrefix ?? 'gk';
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(apiKeyPrefix))
    throw new TypeError('apiKeyPrefix must be lower-case letters, digits and _');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('No fetch available: pass options.fetch');
  return Object.freeze({
    issuer,
    audience: typeof audience === 'string' ? audience : Object.freeze([...audiences]),
    jwksUri: options.jwksUri,
    types: Object.freeze([...types]),
    algorithms,
    requiredClaims: Object.freeze([...(options.requiredClaims ?? ['sub'])]),
    leewaySeconds,
    maxTokenLength: count(options.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH, 'maxTokenLength', 16),
    cacheSize: count(options.cacheSize, 10_000, 'cacheSize'),
    timeout: duration(options.timeout, 5000, 'timeout', 1),
    jwksCacheMaxAge: duration(options.jwksCacheMaxAge, 600_000, 'jwksCacheMaxAge', 1000),
    jwksCooldown: duration(options.jwksCooldown, 30_000, 'jwksCooldown'),
    jwksMaxStale: duration(options.jwksMaxStale, 3_600_000, 'jwksMaxStale'),
    jwksMaxBytes: count(options.jwksMaxBytes, 256 * 1024, 'jwksMaxBytes', 1024),
    accept,
    apiKeyHeader,
    apiKeyPrefix,
    introspection: options.introspection,
    remoteCacheTtl: duration(options.remoteCacheTtl, 30_000, 'remoteCacheTtl'),
    remoteNegativeCacheTtl: duration(options.remoteNegativeCacheTtl, 5000, 'remoteNegativeCacheTtl'),
    remoteCacheSize: count(options.remoteCacheSize, 10_000, 'remoteCacheSize'),
    verifyEndpoint: options.verifyEndpoint,
    introspectionEndpoint: options.introspectionEndpoint,
    allowHttp,
    fetch: fetchImpl,
    clock: options.clock ?? Date.now,
    onEvent: options.onEvent,
  });
}
