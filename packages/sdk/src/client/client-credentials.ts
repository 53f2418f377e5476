/**
 * Service-to-service calls: this service's own access token from the client credentials grant
 * (RFC 6749 §4.4), cached and refreshed before it expires with one refresh in flight at a time, a
 * `fetch` that adds it, and token exchange (RFC 8693) for calls on behalf of the user whose token
 * this service received. Runtime-neutral (fetch, WebCrypto through jose).
 */
import { decodeJwt } from 'jose';
import { checkEndpointUrl, IssuerDiscovery } from '../http/issuer-metadata.js';
import { sha256Hex } from '../sha256-hex.js';
import {
  type AssertionAlgorithm,
  type ClientAuthentication,
  ClientAuthenticator,
  checkClientAuthentication,
} from './client-auth.js';
import { requestToken, type TokenResponse } from './token-endpoint.js';

export interface ClientCredentialsOptions {
  /** The issuer identifier; the token endpoint is discovered from it. */
  readonly issuer: string;
  readonly clientId: string;
  /** `client_secret_basic`. Give this or `privateKey`. */
  readonly clientSecret?: string;
  /** `private_key_jwt`: PKCS#8 PEM, private JWK, CryptoKey or KeyObject. */
  readonly privateKey?: string | import('jose').JWK | import('jose').CryptoKey | import('jose').KeyObject;
  readonly privateKeyAlgorithm?: AssertionAlgorithm;
  readonly privateKeyId?: string;
  /** Scopes to ask for (RFC 6749 §3.3). */
  readonly scope?: string | readonly string[];
  /** The audience (resource server) the token is for, sent as `audience`. */
  readonly audience?: string;
  /** RFC 8707 resource indicators, sent as `resource`. */
  readonly resource?: string | readonly string[];
  /** The token endpoint, instead of discovering it. */
  readonly tokenEndpoint?: string;
  /** Refresh this many ms before expiry (at most half the lifetime); default 60 000. */
  readonly refreshBefore?: number;
  /** Deadline per token request, ms; default 10 000. */
  readonly timeout?: number;
  readonly allowHttp?: boolean;
  readonly fetch?: typeof globalThis.fetch;
  /** ms since the epoch (tests); default `Date.now`. */
  readonly clock?: () => number;
}

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
} as const;

export interface TokenExchangeOptions {
  /** The token this service received from its caller (RFC 8693 §2.1 `subject_token`). */
  readonly subjectToken: string;
  /** Default `urn:ietf:params:oauth:token-type:access_token`. */
  readonly subjectTokenType?: string;
  /** The service to be called (`audience`). */
  readonly audience?: string;
  readonly resource?: string | readonly string[];
  /** Scopes wanted downstream (a subset of the subject's). */
  readonly scope?: string | readonly string[];
  /** Default `urn:ietf:params:oauth:token-type:access_token`. */
  readonly requestedTokenType?: string;
  readonly signal?: AbortSignal;
}

export interface ClientCredentials {
  /**
   * This service's access token: cached, refreshed in the background before it expires, fetched
   * (once, whoever asks) when there is none. Rejects with an `OAuthError` (`invalid_client`…) or a
   * `RemoteDocumentError` (unreachable, timeout).
   */
  getToken(options?: { readonly forceRefresh?: boolean }): Promise<string>;
  /** `fetch` with `Authorization: Bearer <token>`; on a 401 `invalid_token`, refreshes once and retries. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * RFC 8693 token exchange: a token for `audience` on behalf of the subject token's user, with
   * this client as the actor (Gatehouse records it in the `act` claim). Answers are cached (by a
   * hash of the inputs) until shortly before they expire.
   */
  exchange(options: TokenExchangeOptions): Promise<TokenResponse>;
  /** A `fetch` that calls on behalf of `subjectToken`'s user, with an exchanged token. */
  onBehalfOf(subjectToken: string, options?: Omit<TokenExchangeOptions, 'subjectToken'>): typeof globalThis.fetch;
}

interface HeldToken {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

const FALLBACK_LIFETIME_MS = 60_000;
const EXCHANGE_CACHE_LIMIT = 1000;

const scopeParam = (scope: string | readonly string[] | undefined): string | undefined =>
  scope === undefined ? undefined : typeof scope === 'string' ? scope : scope.join(' ');

function addAudience(
  params: URLSearchParams,
  options: { audience?: string | undefined; resource?: string | readonly string[] | undefined },
) {
  if (options.audience) params.set('audience', options.audience);
  const resources =
    options.resource === undefined ? [] : typeof options.resource === 'string' ? [options.resource] : options.resource;
  for (const resource of resources) params.append('resource', resource);
}

/**
 * Gets, caches and refreshes this service's own access token (client credentials grant), and
 * exchanges user tokens for downstream calls.
 *
 * @example
 * ```ts
 * import { createClientCredentials } from '@gatehouse/sdk/client';
 *
 * const client = createClientCredentials({
 *   issuer: 'https://auth.example.com',
 *   clientId: process.env.CLIENT_ID!,
 *   clientSecret: process.env.CLIENT_SECRET!,
 *   scope: 'orders:read',
 *   audience: 'https://orders.internal',
 * });
 * const response = await client.fetch('https://orders.internal/orders/42');
 * ```
 */
export function createClientCredentials(options: ClientCredentialsOptions): ClientCredentials {
  const auth: ClientAuthentication = options.privateKey
    ? {
        clientId: options.clientId,
        privateKey: options.privateKey,
        ...(options.privateKeyAlgorithm ? { privateKeyAlgorithm: options.privateKeyAlgorithm } : {}),
        ...(options.privateKeyId ? { privateKeyId: options.privateKeyId } : {}),
      }
    : { clientId: options.clientId, clientSecret: options.clientSecret as string };
  if (options.privateKey && options.clientSecret) throw new TypeError('Give clientSecret or privateKey, not both');
  checkClientAuthentication(auth, 'createClientCredentials');
  if (typeof options.issuer !== 'string' || !options.issuer) throw new TypeError('issuer is required');
  checkEndpointUrl(options.issuer, 'issuer', options.allowHttp === true);
  if (options.tokenEndpoint) checkEndpointUrl(options.tokenEndpoint, 'tokenEndpoint', options.allowHttp === true);
  const clock = options.clock ?? Date.now;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeout ?? 10_000;
  const refreshBefore = options.refreshBefore ?? 60_000;
  const client = new ClientAuthenticator(auth, clock);
  const discovery = new IssuerDiscovery(
    options.issuer,
    { fetch: fetchImpl, timeoutMs, allowHttp: options.allowHttp === true, now: clock },
    options.tokenEndpoint ? { tokenEndpoint: options.tokenEndpoint } : {},
  );

  let held: HeldToken | undefined;
  let refreshing: Promise<HeldToken> | undefined;
  let failures = 0;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  const exchanges = new Map<string, { response: TokenResponse; expiresAt: number }>();
  const exchangesInflight = new Map<string, Promise<TokenResponse>>();

  /** When to stop using a token, and when to start replacing it (before expiry, at most half-way). */
  function hold(response: TokenResponse, requestedAt: number): HeldToken {
    let lifetime = response.expiresIn === undefined ? undefined : response.expiresIn * 1000;
    if (lifetime === undefined) {
      try {
        const exp = decodeJwt(response.accessToken).exp;
        if (typeof exp === 'number') lifetime = exp * 1000 - requestedAt;
      } catch {
        // Not a JWT: its lifetime is unknown.
      }
    }
    const ttl = Math.max(0, lifetime ?? FALLBACK_LIFETIME_MS);
    const expiresAt = requestedAt + ttl;
    return { token: response.accessToken, expiresAt, refreshAt: expiresAt - Math.min(refreshBefore, ttl / 2) };
  }

  async function post(params: URLSearchParams, signal?: AbortSignal): Promise<TokenResponse> {
    const { tokenEndpoint } = await discovery.get();
    return requestToken(params, {
      endpoint: tokenEndpoint,
      issuer: options.issuer,
      client,
      fetch: fetchImpl,
      timeoutMs,
      signal,
    });
  }

  function refresh(): Promise<HeldToken> {
    if (refreshing) return refreshing;
    const requestedAt = clock();
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    const scope = scopeParam(options.scope);
    if (scope) params.set('scope', scope);
    addAudience(params, options);
    refreshing = post(params).then(
      (response) => {
        held = hold(response, requestedAt);
        failures = 0;
        refreshing = undefined;
        return held;
      },
      (error: unknown) => {
        failures += 1;
        lastFailureAt = clock();
        refreshing = undefined;
        throw error;
      },
    );
    return refreshing;
  }

  async function getToken(tokenOptions?: { readonly forceRefresh?: boolean }): Promise<string> {
    const now = clock();
    if (!tokenOptions?.forceRefresh && held !== undefined && now < held.expiresAt) {
      // In the refresh window: replace it in the background; until then the current one serves.
      const backoff = Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
      if (now >= held.refreshAt && !refreshing && (failures === 0 || now - lastFailureAt >= backoff)) {
        refresh().catch(() => {});
      }
      return held.token;
    }
    return (await refresh()).token;
  }

  async function authorizedFetch(
    token: () => Promise<string>,
    renew: (() => Promise<string>) | undefined,
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> {
    const request = new Request(input, init);
    const spare = renew ? request.clone() : undefined;
    request.headers.set('authorization', `Bearer ${await token()}`);
    const response = await fetchImpl(request);
    // RFC 6750 §3.1: invalid_token means the token itself was refused (expired early, key rotated).
    const refused =
      response.status === 401 && /error="?invalid_token/.test(response.headers.get('www-authenticate') ?? '');
    if (!refused || !renew || !spare) return response;
    await response.body?.cancel().catch(() => {});
    spare.headers.set('authorization', `Bearer ${await renew()}`);
    return fetchImpl(spare);
  }

  async function exchange(exchangeOptions: TokenExchangeOptions): Promise<TokenResponse> {
    const params = new URLSearchParams({
      // RFC 8693 §2.1.
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: exchangeOptions.subjectToken,
      subject_token_type: exchangeOptions.subjectTokenType ?? TOKEN_TYPES.accessToken,
      requested_token_type: exchangeOptions.requestedTokenType ?? TOKEN_TYPES.accessToken,
    });
    addAudience(params, exchangeOptions);
    const scope = scopeParam(exchangeOptions.scope);
    if (scope) params.set('scope', scope);
    const key = await sha256Hex(params.toString());
    const now = clock();
    const cached = exchanges.get(key);
    if (cached && now < cached.expiresAt) return cached.response;
    let pending = exchangesInflight.get(key);
    if (!pending) {
      pending = post(params, exchangeOptions.signal)
        .then((response) => {
          // RFC 8693 §2.2.1: issued_token_type is REQUIRED.
          if (response.issuedTokenType === undefined) {
            throw new TypeError('The token exchange response has no issued_token_type (RFC 8693 §2.2.1)');
          }
          const { refreshAt } = hold(response, now);
          if (exchanges.size >= EXCHANGE_CACHE_LIMIT) exchanges.delete(exchanges.keys().next().value as string);
          exchanges.set(key, { response, expiresAt: refreshAt });
          return response;
        })
        .finally(() => exchangesInflight.delete(key));
      exchangesInflight.set(key, pending);
    }
    return pending;
  }

  return Object.freeze({
    getToken,
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      authorizedFetch(
        () => getToken(),
        () => getToken({ forceRefresh: true }),
        input,
        init,
      ),
    exchange,
    onBehalfOf(subjectToken: string, exchangeOptions: Omit<TokenExchangeOptions, 'subjectToken'> = {}) {
      const exchanged = async () => (await exchange({ ...exchangeOptions, subjectToken })).accessToken;
      return ((input: RequestInfo | URL, init?: RequestInit) =>
        authorizedFetch(exchanged, undefined, input, init)) as typeof globalThis.fetch;
    },
  });
}
