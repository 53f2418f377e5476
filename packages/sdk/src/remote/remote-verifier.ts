/**
 * Credentials only the issuer can judge (API keys, Basic passwords, opaque tokens), verified by
 * asking it: Gatehouse's `/auth/verify` with the credential's own header forwarded, or RFC 7662
 * token introspection with this service's client credentials. The answers are cached for a short
 * TTL under a SHA-256 of the credential (the secret itself is never kept), and concurrent
 * requests with the same new credential share one call (a thousand at once make one request).
 * Definitive refusals are cached briefly too, so a client retrying a bad key in a loop does not
 * turn into a loop against the issuer; failures of the issuer are never cached and fail closed.
 */
import type { ClientAuthenticator } from '../client/client-auth.js';
import {
  type GatehouseAuthError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  RateLimitedError,
  RemoteDocumentError,
  VerifierUnavailableError,
} from '../errors.js';
import { openExchange } from '../http/fetch-json.js';
import type { IssuerEndpoints } from '../http/issuer-metadata.js';
import { type Identity, identityFromClaims, parseScope } from '../identity.js';
import type { PresentedCredential } from '../verifier/credentials.js';

export interface RemoteVerifierOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly endpoints: () => Promise<IssuerEndpoints>;
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  /** How long an accepted credential is answered from the cache. */
  readonly cacheTtlMs: number;
  /** How long a refused credential is answered from the cache. */
  readonly negativeCacheTtlMs: number;
  readonly cacheSize: number;
  /** SHA-256 hex of a string: `node:crypto` on Node, WebCrypto elsewhere. */
  readonly hash: (text: string) => string | Promise<string>;
  /** Client credentials for RFC 7662 introspection of opaque tokens; without them, `/auth/verify`. */
  readonly introspectionClient: ClientAuthenticator | undefined;
  readonly now: () => number;
}

interface CachedAnswer {
  readonly expiresAt: number;
  readonly identity?: Identity;
  readonly error?: GatehouseAuthError;
}

/** Gatehouse's identity headers on a 200 from `/auth/verify`. */
const IDENTITY_HEADERS = {
  subject: 'x-auth-subject',
  method: 'x-auth-method',
  scopes: 'x-auth-scopes',
  clientId: 'x-auth-client-id',
} as const;

export class RemoteVerifier {
  private readonly cache = new Map<string, CachedAnswer>();
  private readonly inflight = new Map<string, Promise<Identity>>();

  constructor(private readonly options: RemoteVerifierOptions) {}

  async verify(credential: PresentedCredential): Promise<Identity> {
    const key = await this.options.hash(`${credential.kind}\u0000${credential.value}`);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (this.options.now() < cached.expiresAt) {
        if (cached.error) throw cached.error;
        if (cached.identity) return cached.identity;
      }
      this.cache.delete(key);
    }
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.ask(credential, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async ask(credential: PresentedCredential, key: string): Promise<Identity> {
    try {
      const { identity, expiresAt } =
        credential.kind === 'opaque' && this.options.introspectionClient
          ? await this.introspect(credential.value, this.options.introspectionClient)
          : await this.forward(credential);
      const now = this.options.now();
      this.remember(key, { identity, expiresAt: Math.min(now + this.options.cacheTtlMs, expiresAt ?? Infinity) });
      return identity;
    } catch (error) {
      if (error instanceof InvalidTokenError || error instanceof InvalidRequestError) {
        this.remember(key, { error, expiresAt: this.options.now() + this.options.negativeCacheTtlMs });
      }
      throw error;
    }
  }

  private remember(key: string, answer: CachedAnswer): void {
    if (this.options.cacheSize <= 0 || answer.expiresAt <= this.options.now()) return;
    if (this.cache.size >= this.options.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, answer);
  }

  /** Gatehouse `/auth/verify`: the credential's header, as the client sent it. */
  private async forward(credential: PresentedCredential): Promise<{ identity: Identity; expiresAt?: number }> {
    const { verifyEndpoint } = await this.endpoints();
    const exchange = await this.open(verifyEndpoint, 'Gatehouse /auth/verify', {
      method: 'GET',
      headers: { [credential.header]: credential.headerValue },
    });
    const { response } = exchange;
    if (response.status === 200) {
      exchange.discard();
      const header = (name: string) => response.headers.get(name) ?? undefined;
      const subject = header(IDENTITY_HEADERS.subject);
      const method = header(IDENTITY_HEADERS.method);
      if (!subject || !method) {
        throw new VerifierUnavailableError(
          'ERR_REMOTE_INVALID_ANSWER',
          `${verifyEndpoint} allowed the request without naming the subject and method`,
        );
      }
      const identity: Identity = Object.freeze({
        subject,
        method,
        scopes: Object.freeze(parseScope(header(IDENTITY_HEADERS.scopes))),
        clientId: header(IDENTITY_HEADERS.clientId),
        credentialId: undefined,
        claims: Object.freeze({}),
      });
      return { identity };
    }
    throw await this.refusal(exchange, verifyEndpoint);
  }

  /** RFC 7662 §2: POST the token with our client credentials; only `active: true` is a yes. */
  private async introspect(
    token: string,
    client: ClientAuthenticator,
  ): Promise<{ identity: Identity; expiresAt?: number }> {
    const { introspectionEndpoint } = await this.endpoints();
    const params = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    await client.apply(params, headers, this.options.issuer);
    const exchange = await this.open(introspectionEndpoint, 'token introspection', {
      method: 'POST',
      headers,
      body: params.toString(),
    });
    const { status } = exchange.response;
    if (status === 401 || status === 403) {
      exchange.discard();
      // Our own client credentials were refused: a configuration problem, never the caller's fault.
      throw new VerifierUnavailableError(
        'ERR_INTROSPECTION_UNAUTHORIZED',
        `${introspectionEndpoint} refused this service's client credentials (HTTP ${status}); check the introspection client`,
      );
    }
    if (status !== 200) throw await this.refusal(exchange, introspectionEndpoint);
    const body = await this.readJson(exchange);
    const claims = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    const now = this.options.now();
    // RFC 7662 §2.2: `active` is REQUIRED; anything but true is an inactive token (docs/security.md #23).
    if (claims.active !== true) throw new InvalidTokenError('ERR_TOKEN_INACTIVE', 'The token is not active');
    // An active refresh token is still not an access token: it never authorises a request
    // (RFC 6749 §1.5; Gatehouse introspects refresh tokens too, with token_type "refresh_token").
    if (claims.token_type === 'refresh_token') {
      throw new InvalidTokenError('ERR_TOKEN_TYPE', 'A refresh token is not an access token');
    }
    if (claims.iss !== undefined && claims.iss !== this.options.issuer) {
      throw new InvalidTokenError('ERR_JWT_ISSUER', 'The introspected token was issued by another issuer');
    }
    if (claims.aud !== undefined && !audienceContains(claims.aud, this.options.audience)) {
      throw new InvalidTokenError('ERR_JWT_AUDIENCE', 'The introspected token is not meant for this audience');
    }
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
    if (exp !== undefined && exp <= now) throw new InvalidTokenError('ERR_JWT_EXPIRED', 'The token has expired');
    if (typeof claims.sub !== 'string' && typeof claims.client_id !== 'string') {
      throw new InvalidTokenError('ERR_TOKEN_NO_SUBJECT', 'The introspected token names no subject');
    }
    const subjectClaims = typeof claims.sub === 'string' ? claims : { ...claims, sub: claims.client_id };
    return { identity: identityFromClaims(subjectClaims, 'opaque'), ...(exp === undefined ? {} : { expiresAt: exp }) };
  }

  private async endpoints(): Promise<IssuerEndpoints> {
    try {
      return await this.options.endpoints();
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  private async open(
    url: string,
    what: string,
    request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ) {
    try {
      return await openExchange(url, {
        what,
        fetch: this.options.fetch,
        timeoutMs: this.options.timeoutMs,
        maxBytes: 64 * 1024,
        ...request,
      });
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  private async readJson(exchange: Awaited<ReturnType<typeof openExchange>>): Promise<unknown> {
    try {
      return await exchange.readJson();
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /** A non-200 answer: the issuer's refusal in our error types, or unavailability (fail closed). */
  private async refusal(exchange: Awaited<ReturnType<typeof openExchange>>, url: string): Promise<Error> {
    const { status, headers } = exchange.response;
    if (status >= 500 || status < 400) {
      exchange.discard();
      return new VerifierUnavailableError('ERR_REMOTE_STATUS', `${url} answered HTTP ${status}`);
    }
    let described = '';
    try {
      const body = (await exchange.readJson()) as { error?: unknown; error_description?: unknown } | null;
      if (body && typeof body.error_description === 'string') described = body.error_description;
    } catch {
      // The status decides; a body we cannot read only loses the description.
    }
    const detail = `${url} refused the credential (HTTP ${status}${described ? `: ${described}` : ''})`;
    if (status === 429) {
      const retryAfter = Number(headers.get('retry-after'));
      return new RateLimitedError(detail, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined);
    }
    if (status === 400)
      return new InvalidRequestError('ERR_REMOTE_INVALID_REQUEST', described || 'The request is malformed', {
        description: described || 'The request is malformed',
      });
    if (status === 403) return new InsufficientScopeError([], []);
    return new InvalidTokenError('ERR_CREDENTIAL_REJECTED', detail, { description: 'The credential is invalid' });
  }
}

function toUnavailable(error: unknown): Error {
  if (error instanceof RemoteDocumentError) {
    return new VerifierUnavailableError(error.code, `Cannot verify the credential: ${error.message}`, { cause: error });
  }
  return error as Error;
}

function audienceContains(aud: unknown, expected: string | readonly string[]): boolean {
  const wanted = typeof expected === 'string' ? [expected] : expected;
  if (typeof aud === 'string') return wanted.includes(aud);
  return Array.isArray(aud) && aud.some((entry) => typeof entry === 'string' && wanted.includes(entry));
}
