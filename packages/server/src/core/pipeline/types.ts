/**
 * The authentication pipeline's vocabulary. Every mechanism (API keys, Basic, JWT, OAuth tokens)
 * is an `Authenticator`; the pipeline runs the enabled ones in order. Nothing here knows HTTP
 * frameworks or SQL: the HTTP layer adapts its request into an `AuthRequest`.
 */

/** The parts of a request an authenticator may look at. */
export interface AuthRequest {
  /** A request header by lower-case name; the HTTP layer has already refused duplicates. */
  header(name: string): string | undefined;
  /** The request method (for forward auth: the original request's method). */
  readonly method: string;
  /** Path and query of the request being authorised (for forward auth: the original URI). */
  readonly url: string;
  /** True when the client's connection is HTTPS, directly or via a trusted proxy. */
  readonly secure: boolean;
  /** The client's address (after trusted-proxy resolution). */
  readonly clientIp: string;
}

/** Who the caller is, once a mechanism has vouched for them. */
export interface Identity {
  /** The subject: a user id, an API key's owner, a client id. */
  readonly subject: string;
  /** Which mechanism authenticated the caller (`apikey`, `basic`, `jwt`…). */
  readonly method: string;
  readonly scopes: readonly string[];
  /** The OAuth client or API key the request came through, where known. */
  readonly clientId?: string | undefined;
  /** The credential's own id (API key id, token jti) for audit and revocation. */
  readonly credentialId?: string | undefined;
  /** Extra claims (JWT claims, key metadata). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * What an authenticator answers. Expected denials are values, not exceptions; an authenticator
 * throws only when infrastructure fails (the store is unreachable), and the pipeline's caller
 * turns that into 503, never into an allow.
 */
export type AuthOutcome =
  /** No credential of this mechanism is present: let the next authenticator look. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'authenticated'; readonly identity: Identity; readonly headers?: Readonly<Record<string, string>> }
  /** A credential of this mechanism is present and is not acceptable. */
  | { readonly kind: 'rejected'; readonly rejection: Rejection }
  /**
   * Asked to answer from memory only (`AuthenticateOptions.memoryOnly`), the mechanism would have
   * had to look further (the store, a key-ring reload) to judge this credential.
   */
  | { readonly kind: 'uncached' };

/** How far an authenticator may go to judge a credential. */
export interface AuthenticateOptions {
  /**
   * Judge from memory only: a credential memory knows to be good is authenticated, anything that
   * would need the store or a key-ring reload answers `uncached` (the client has spent its
   * verification failure budget: core/throttle/failure-budget.ts).
   */
  readonly memoryOnly: boolean;
}

export interface Rejection {
  /** 400 (malformed request), 401 (bad credential), 429 (throttled). */
  readonly status: 400 | 401 | 429;
  /** Machine-readable code for the body: RFC 6750 `invalid_token`, `invalid_request`, … */
  readonly error: string;
  /** Human-readable text for the caller; never says which check failed when that helps an attacker. */
  readonly description: string;
  /** The precise reason, for logs and audit only (`expired`, `revoked`, `bad_checksum`…). */
  readonly reason: string;
  /** Extra response headers (`Retry-After`, rate-limit headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * What the credential named, when it exists: the account (Basic) or the API key id. Audit
   * target only; never sent.
   */
  readonly target?: string;
}

export interface Authenticator {
  /** The mechanism's name as used in config and `X-Auth-Method`. */
  readonly name: string;
  /**
   * The `WWW-Authenticate` challenge this mechanism adds to a 401 (RFC 9110 §11.6.1), e.g.
   * `Basic realm="gatehouse", charset="UTF-8"`. `error` is set when a credential was rejected.
   */
  challenge(error?: { error: string; description: string }): string;
  /**
   * Lower-case names of request headers that carry this mechanism's credential besides
   * `Authorization` (e.g. `x-api-key`): the HTTP layer refuses requests that repeat one.
   */
  readonly headers?: readonly string[];
  /**
   * `policy` is what the request requires; the scope decision stays the pipeline's, but a
   * mechanism may use it to avoid spending a metered resource (an API key's uses) on a request
   * that will be refused.
   */
  authenticate(
    request: AuthRequest,
    policy?: AccessPolicy,
    options?: AuthenticateOptions,
  ): AuthOutcome | Promise<AuthOutcome>;
  /**
   * This mechanism's failed verifications count against the client's verification failure
   * budget, and over budget it is asked for memory-only answers (API keys, bearer tokens). Basic
   * has its own login throttle (core/throttle/login-throttle.ts) and is not budgeted.
   */
  readonly budgeted?: boolean;
}

/** What a route (or `/auth/verify?scope=`) requires of the caller. */
export interface AccessPolicy {
  /** Mechanisms accepted, in order; default: every enabled one. */
  readonly methods?: readonly string[];
  /** Every one of these scopes is required. */
  readonly scopes?: readonly string[];
}

export type Decision =
  | { readonly allow: true; readonly identity: Identity; readonly headers?: Readonly<Record<string, string>> }
  | { readonly allow: false; readonly denial: Denial };

export interface Denial {
  readonly status: 400 | 401 | 403 | 429;
  readonly error: string;
  readonly description: string;
  readonly reason: string;
  /** `WWW-Authenticate` challenges, one per accepted mechanism on a 401. */
  readonly challenges: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** The mechanism that rejected the credential, when one did. */
  readonly method?: string;
  readonly identity?: Identity;
  /** The account the rejected credential named, when it exists (audit target only). */
  readonly target?: string;
}
