/**
 * The verifier, assembled from its parts for one runtime: where keys come from (discovery, a JWKS
 * URL, static keys, a shared secret), the JWT engine that checks tokens (Node's core or
 * WebCrypto), the verified-token cache, and the remote verifier for credentials only the issuer
 * can judge. `verify` on a token seen before is one Map probe and a clock read.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { base64url } from 'jose';
import { ClientAuthenticator } from '../client/client-auth.js';
import { InvalidTokenError, MissingCredentialsError } from '../errors.js';
import { IssuerDiscovery } from '../http/issuer-metadata.js';
import type { Identity } from '../identity.js';
import { identityFromClaims } from '../identity.js';
import type { JwtErrorCode } from '../jwt/errors.js';
import { MIN_HMAC_KEY_BYTES } from '../jwt/keys.js';
import { VerifiedTokenCache } from '../jwt/verified-token-cache.js';
import { KeySetError, type PublicAlgorithm, parseKeySet } from '../keys/jwks.js';
import { type KeySource, RemoteKeySet, StaticKeySource } from '../keys/remote-key-set.js';
import { RemoteVerifier } from '../remote/remote-verifier.js';
import { requireScopes } from '../scopes.js';
import {
  type CredentialKind,
  findCredential,
  type HeaderSource,
  hasJwsShape,
  type PresentedCredential,
  toHeaderLookup,
} from './credentials.js';
import type { EngineKey, JwtEngine, JwtRules } from './engine.js';
import { type PemPublicKey, type ResolvedOptions, resolveOptions, type VerifierOptions } from './options.js';

/** What the verified-token cache remembers of a token (never past its `exp`). */
interface CachedIdentity {
  readonly identity: Identity;
  readonly expiresAt: number;
  readonly kid: string;
}

/** Per-call requirements. */
export interface VerifyOptions {
  /** Every one of these scopes is required (403 `insufficient_scope` otherwise). */
  readonly scopes?: readonly string[];
}

/** Verifies credentials for one service (one issuer, one audience). Create it once, at startup. */
export interface Verifier {
  /**
   * Verifies a bearer access token and returns the caller's identity, or throws a
   * {@link GatehouseAuthError} (`InvalidTokenError`, `InsufficientScopeError`,
   * `VerifierUnavailableError`…).
   */
  verify(token: string, options?: VerifyOptions): Promise<Identity>;
  /**
   * Finds the credential in request headers (`Authorization: Bearer|Basic`, the API key header)
   * and verifies it; throws {@link MissingCredentialsError} when there is none.
   */
  verifyRequest(headers: HeaderSource, options?: VerifyOptions): Promise<Identity>;
  /** Fetches the keys now (at startup, or in a readiness probe); rejects with the reason they are unusable. */
  ready(): Promise<void>;
  /** The credential kinds accepted, for challenges (`Bearer`, `Basic`). */
  readonly accepts: ReadonlySet<CredentialKind>;
  /** The header API keys come in. */
  readonly apiKeyHeader: string;
}

/** What differs between Node and WebCrypto runtimes. */
export interface VerifierRuntime<K extends EngineKey> {
  readonly engine: JwtEngine<K>;
  /** SHA-256 hex, for the remote cache's keys. */
  readonly sha256: (text: string) => string | Promise<string>;
  /** Keys only this runtime knows (Node KeyObjects), or undefined to treat the entry as JWK/PEM. */
  readonly nativeKey?: (entry: unknown) => Promise<K | undefined> | K | undefined;
}

const EXPIRY_CODES: ReadonlySet<JwtErrorCode> = new Set(['ERR_JWT_EXPIRED']);

/** What the caller is told: which check failed stays in the log, except what a client acts upon. */
function describe(code: JwtErrorCode): string {
  if (EXPIRY_CODES.has(code)) return 'The access token expired';
  if (code === 'ERR_JWT_NOT_YET_VALID') return 'The access token is not valid yet';
  return 'The access token is invalid';
}

export function buildVerifier<K extends EngineKey>(
  given: VerifierOptions & { readonly keys?: unknown },
  runtime: VerifierRuntime<K>,
): Verifier {
  const options = resolveOptions(given as VerifierOptions);
  const { clock, accept } = options;
  const tokenCache = new VerifiedTokenCache<CachedIdentity>(options.cacheSize);
  const discovery = new IssuerDiscovery(
    options.issuer,
    { fetch: options.fetch, timeoutMs: options.timeout, allowHttp: options.allowHttp, now: clock },
    {
      ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
      ...(options.verifyEndpoint ? { verifyEndpoint: options.verifyEndpoint } : {}),
      ...(options.introspectionEndpoint ? { introspectionEndpoint: options.introspectionEndpoint } : {}),
    },
  );
  const keySource: KeySource<K> = createKeySource(given, options, runtime, discovery, tokenCache);
  const lookup = (kid: string) => keySource.lookup(kid);
  const rules: JwtRules = {
    issuer: options.issuer,
    audience: options.audience,
    types: options.types,
    requiredClaims: options.requiredClaims,
    leewaySeconds: options.leewaySeconds,
    maxTokenLength: options.maxTokenLength,
    now: clock,
  };
  const remote =
    accept.has('apikey') || accept.has('basic') || accept.has('opaque')
      ? new RemoteVerifier({
          issuer: options.issuer,
          audience: options.audience,
          endpoints: () => discovery.get(),
          fetch: options.fetch,
          timeoutMs: options.timeout,
          cacheTtlMs: options.remoteCacheTtl,
          negativeCacheTtlMs: options.remoteNegativeCacheTtl,
          cacheSize: options.remoteCacheSize,
          hash: runtime.sha256,
          introspectionClient: options.introspection
            ? new ClientAuthenticator(options.introspection, clock)
            : undefined,
          now: clock,
        })
      : undefined;

  async function verifyJwtLocally(token: string): Promise<Identity> {
    if (!accept.has('jwt')) {
      throw new InvalidTokenError('ERR_CREDENTIAL_NOT_ACCEPTED', 'This service does not accept JWT access tokens');
    }
    const outcome = await runtime.engine.verify(token, lookup, rules);
    if (!outcome.ok)
      throw new InvalidTokenError(outcome.code, outcome.message, { description: describe(outcome.code) });
    const identity = identityFromClaims(outcome.claims, 'jwt');
    const exp = (outcome.claims.exp as number) * 1000;
    tokenCache.set(token, { identity, expiresAt: exp, kid: outcome.header.kid as string }, clock());
    return identity;
  }

  function withScopes(identity: Identity, verifyOptions: VerifyOptions | undefined): Identity {
    return verifyOptions?.scopes && verifyOptions.scopes.length > 0
      ? requireScopes(identity, ...verifyOptions.scopes)
      : identity;
  }

  function verifyPresented(credential: PresentedCredential): Promise<Identity> {
    if ((credential.kind === 'jwt' && accept.has('jwt')) || (credential.kind === 'opaque' && !accept.has('opaque'))) {
      return verify(credential.value);
    }
    if (credential.kind === 'jwt' || !accept.has(credential.kind) || remote === undefined) {
      // Not a credential this service takes: as if there were none (the challenge says what is).
      return Promise.reject(new MissingCredentialsError(`This service does not accept ${credential.kind} credentials`));
    }
    return remote.verify(credential);
  }

  function verify(token: string, verifyOptions?: VerifyOptions): Promise<Identity> {
    // Before the cache: callers pass request input, and a non-string is a rejection, never a throw.
    if (typeof token !== 'string') return Promise.reject(new TypeError('verify(token) needs a string'));
    const cached = tokenCache.get(token, clock())?.identity;
    if (cached !== undefined) {
      if (verifyOptions === undefined) return Promise.resolve(cached);
      try {
        return Promise.resolve(withScopes(cached, verifyOptions));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const identity =
      accept.has('opaque') && remote !== undefined && !hasJwsShape(token)
        ? remote.verify({ kind: 'opaque', value: token, header: 'authorization', headerValue: `Bearer ${token}` })
        : verifyJwtLocally(token);
    return verifyOptions === undefined ? identity : identity.then((found) => withScopes(found, verifyOptions));
  }

  return Object.freeze({
    verify,
    async verifyRequest(headers: HeaderSource, verifyOptions?: VerifyOptions) {
      const credential = findCredential(toHeaderLookup(headers), options.apiKeyHeader, options.apiKeyPrefix);
      if (credential === undefined) throw new MissingCredentialsError();
      return withScopes(await verifyPresented(credential), verifyOptions);
    },
    ready: () => (accept.has('jwt') ? keySource.ready() : Promise.resolve()),
    accepts: accept,
    apiKeyHeader: options.apiKeyHeader,
  });
}

function createKeySource<K extends EngineKey>(
  given: { readonly keys?: unknown; readonly secret?: VerifierOptions['secret'] },
  options: ResolvedOptions,
  runtime: VerifierRuntime<K>,
  discovery: IssuerDiscovery,
  tokenCache: VerifiedTokenCache<CachedIdentity>,
): KeySource<K> {
  if (given.keys === undefined && given.secret === undefined) {
    const publicAlgorithms = new Set([...options.algorithms].filter((alg): alg is PublicAlgorithm => alg !== 'HS256'));
    return new RemoteKeySet<K>({
      url: async () => options.jwksUri ?? (await discovery.get()).jwksUri,
      importKey: (key) => runtime.engine.importPublicJwk(key),
      algorithms: publicAlgorithms,
      fetch: options.fetch,
      timeoutMs: options.timeout,
      maxBytes: options.jwksMaxBytes,
      cacheMaxAgeMs: options.jwksCacheMaxAge,
      cooldownMs: options.jwksCooldown,
      maxStaleMs: options.jwksMaxStale,
      now: options.clock,
      onKeysRemoved: (kids) => tokenCache.drop((entry) => kids === 'all' || kids.includes(entry.kid)),
      onEvent: options.onEvent,
    });
  }
  // Static keys are imported asynchronously (WebCrypto import is async); lookups wait for it once.
  let source: StaticKeySource<K> | undefined;
  const loading = loadStaticKeys(given, options, runtime).then((keys) => {
    source = new StaticKeySource(keys);
    return source;
  });
  // Surface configuration mistakes at the first use, and never as an unhandled rejection.
  loading.catch(() => {});
  return {
    lookup: (kid) => (source ? source.lookup(kid) : loading.then((loaded) => loaded.lookup(kid))),
    ready: async () => {
      await loading;
    },
  };
}

async function loadStaticKeys<K extends EngineKey>(
  given: { readonly keys?: unknown; readonly secret?: VerifierOptions['secret'] },
  options: ResolvedOptions,
  runtime: VerifierRuntime<K>,
): Promise<Array<{ kid: string | undefined; key: K }>> {
  const loaded: Array<{ kid: string | undefined; key: K }> = [];
  const entries: unknown[] =
    given.keys === undefined ? [] : Array.isArray(given.keys) ? given.keys : [given.keys as JSONWebKeySet];
  const jwks: JWK[] = [];
  for (const entry of entries) {
    const native = runtime.nativeKey ? await runtime.nativeKey(entry) : undefined;
    if (native !== undefined) {
      loaded.push({ kid: (entry as { kid?: string }).kid, key: native });
    } else if (isKeySet(entry)) {
      jwks.push(...(entry.keys as JWK[]));
    } else if (isPem(entry)) {
      if (!options.algorithms.has(entry.alg)) throw new TypeError(`keys: algorithm ${entry.alg} is not allowed`);
      loaded.push({ kid: entry.kid, key: await runtime.engine.importPem(entry.pem, entry.alg, entry.kid ?? 'static') });
    } else {
      jwks.push(entry as JWK);
    }
  }
  if (jwks.length > 0) {
    const publicAlgorithms = new Set([...options.algorithms].filter((alg): alg is PublicAlgorithm => alg !== 'HS256'));
    let parsed: ReturnType<typeof parseKeySet>;
    try {
      parsed = parseKeySet({ keys: jwks }, publicAlgorithms);
    } catch (error) {
      throw error instanceof KeySetError ? new TypeError(`keys: the key set ${error.message}`) : error;
    }
    for (const published of parsed.keys) {
      loaded.push({ kid: published.kid, key: await runtime.engine.importPublicJwk(published) });
    }
  }
  if (given.secret !== undefined) {
    if (!options.algorithms.has('HS256')) throw new TypeError('secret given but HS256 is not among the algorithms');
    const { secret, kid } =
      typeof given.secret === 'string' || given.secret instanceof Uint8Array
        ? { secret: given.secret, kid: undefined }
        : given.secret;
    loaded.push({ kid, key: await runtime.engine.importSecret(secretBytes(secret), kid ?? 'hs256') });
  }
  if (loaded.length === 0) throw new TypeError('keys: no key given');
  return loaded;
}

const isKeySet = (entry: unknown): entry is JSONWebKeySet =>
  typeof entry === 'object' && entry !== null && Array.isArray((entry as { keys?: unknown }).keys);
const isPem = (entry: unknown): entry is PemPublicKey =>
  typeof entry === 'object' && entry !== null && typeof (entry as { pem?: unknown }).pem === 'string';

/**
 * The secret's bytes, read the way Gatehouse reads `keys.hs256_secret`: hex (64+ characters), else
 * base64url (43+). At least 32 bytes (RFC 7518 §3.2, docs/security.md #10).
 */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (secret instanceof Uint8Array) bytes = secret;
  else {
    const text = secret.trim();
    if (/^(?:[0-9a-fA-F]{2}){32,}$/.test(text)) {
      bytes = new Uint8Array(text.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
    } else if (/^[A-Za-z0-9_-]{43,}={0,2}$/.test(text)) {
      bytes = base64url.decode(text.replace(/=+$/, ''));
    } else {
      throw new TypeError('secret must be at least 32 bytes: hex (64+ characters) or base64url (43+)');
    }
  }
  if (bytes.byteLength < MIN_HMAC_KEY_BYTES) throw new TypeError('secret must be at least 32 bytes (256 bits)');
  return bytes;
}
