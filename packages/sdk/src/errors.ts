/**
 * The errors a verifier throws. One class per outcome a service must answer differently, each
 * named after the RFC 6750 §3.1 error code it carries, with a stable machine `code` (`ERR_JWT_*`
 * from the JWT core, `ERR_JWKS_*`, `ERR_REMOTE_*`…) for logs and `switch` statements.
 *
 * `message` is for logs and may name the precise check that failed; `description` is what the
 * caller may be told (the `error_description` of the challenge and body).
 */

/** The RFC 6750 §3.1 error codes, plus the non-standard outcomes a resource server also meets. */
export type AuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  /** No credential at all: RFC 6750 §3.1 says the challenge then carries no error code. */
  | 'unauthorized'
  /** The issuer throttled the credential (HTTP 429), as Gatehouse names it. */
  | 'rate_limited'
  /** Keys or the issuer cannot be reached: fail closed with 503, never allow. */
  | 'temporarily_unavailable';

export interface GatehouseAuthErrorOptions {
  /** Safe to show to the caller; defaults to a generic text for the error code. */
  readonly description?: string;
  /** The underlying cause (a fetch error, the JWKS error…). */
  readonly cause?: unknown;
}

/**
 * The base class of every verification failure. Catch it to answer a request yourself:
 *
 * @example
 * ```ts
 * try {
 *   request.auth = await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof GatehouseAuthError) return reply(error.status, error.challenge('api'));
 *   throw error;
 * }
 * ```
 */
export class GatehouseAuthError extends Error {
  /** The HTTP status a resource server answers: 400, 401, 403, 429 or 503. */
  readonly status: 400 | 401 | 403 | 429 | 503;
  /** The RFC 6750 error code (or `unauthorized` / `rate_limited` / `temporarily_unavailable`). */
  readonly error: AuthErrorCode;
  /** A stable, precise code for logs: `ERR_JWT_EXPIRED`, `ERR_JWKS_TIMEOUT`, `ERR_NO_CREDENTIALS`… */
  readonly code: string;
  /** What the caller may be told (no internals, no token material). */
  readonly description: string;

  constructor(
    status: GatehouseAuthError['status'],
    error: AuthErrorCode,
    code: string,
    message: string,
    options: GatehouseAuthErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.error = error;
    this.code = code;
    this.description = options.description ?? DEFAULT_DESCRIPTIONS[error];
  }
}

const DEFAULT_DESCRIPTIONS: Record<AuthErrorCode, string> = {
  invalid_request: 'The request is malformed',
  invalid_token: 'The access token is invalid',
  insufficient_scope: 'The access token lacks a required scope',
  unauthorized: 'Authentication is required',
  rate_limited: 'Too many attempts; try again later',
  temporarily_unavailable: 'Credentials cannot be verified right now; try again shortly',
};

/**
 * No credential was presented (401, and RFC 6750 §3.1: no error code in the challenge).
 *
 * @example
 * ```ts
 * if (error instanceof MissingCredentialsError) console.log('anonymous request');
 * ```
 */
export class MissingCredentialsError extends GatehouseAuthError {
  constructor(message = 'No credentials were presented') {
    super(401, 'unauthorized', 'ERR_NO_CREDENTIALS', message, { description: 'Authentication is required' });
  }
}

/**
 * The credential is not acceptable: bad signature, expired, wrong audience, unknown key, revoked…
 * (401 `invalid_token`, RFC 6750 §3.1). `code` says which check failed.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidTokenError && error.code === 'ERR_JWT_EXPIRED') refreshToken();
 * ```
 */
export class InvalidTokenError extends GatehouseAuthError {
  constructor(code: string, message: string, options: GatehouseAuthErrorOptions = {}) {
    super(401, 'invalid_token', code, message, options);
  }
}

/**
 * The request is malformed: two credentials, a bad `Authorization` header (400 `invalid_request`,
 * RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * if (error instanceof InvalidRequestError) return reply(400, error.description);
 * ```
 */
export class InvalidRequestError extends GatehouseAuthError {
  constructor(code: string, message: string, options: GatehouseAuthErrorOptions = {}) {
    super(400, 'invalid_request', code, message, { description: message, ...options });
  }
}

/**
 * The credential is valid but lacks a scope the route requires (403 `insufficient_scope`,
 * RFC 6750 §3.1). `scopes` lists every scope required, for the challenge's `scope` attribute.
 *
 * @example
 * ```ts
 * if (error instanceof InsufficientScopeError) console.log('needs', error.scopes.join(' '));
 * ```
 */
export class InsufficientScopeError extends GatehouseAuthError {
  /** Every scope the route requires (RFC 6750 §3: the challenge's `scope` attribute). */
  readonly scopes: readonly string[];
  /** The required scopes the credential does not carry. */
  readonly missing: readonly string[];
  constructor(scopes: readonly string[], missing: readonly string[]) {
    super(
      403,
      'insufficient_scope',
      'ERR_INSUFFICIENT_SCOPE',
      `The credential lacks the required scope: ${missing.join(' ')}`,
      { description: `The credential lacks the required scope: ${missing.join(' ')}` },
    );
    this.scopes = Object.freeze([...scopes]);
    this.missing = Object.freeze([...missing]);
  }
}

/**
 * The issuer refused to look at the credential because of throttling (429). `retryAfter` is in
 * seconds, when the issuer said.
 *
 * @example
 * ```ts
 * if (error instanceof RateLimitedError) response.setHeader('retry-after', String(error.retryAfter ?? 1));
 * ```
 */
export class RateLimitedError extends GatehouseAuthError {
  readonly retryAfter: number | undefined;
  constructor(message: string, retryAfter: number | undefined) {
    super(429, 'rate_limited', 'ERR_RATE_LIMITED', message);
    this.retryAfter = retryAfter;
  }
}

/**
 * The verifier cannot decide: no usable keys (the JWKS endpoint is down, hangs, or returns
 * garbage) or the issuer is unreachable for a credential only it can check. Fail closed: answer
 * 503, never allow (docs/security.md #35). `code` names the cause (`ERR_JWKS_TIMEOUT`…), `message`
 * explains it for the operator.
 *
 * @example
 * ```ts
 * if (error instanceof VerifierUnavailableError) logger.error({ code: error.code }, error.message);
 * ```
 */
export class VerifierUnavailableError extends GatehouseAuthError {
  /** Seconds after which trying again makes sense. */
  readonly retryAfter: number;
  constructor(code: string, message: string, options: GatehouseAuthErrorOptions & { retryAfter?: number } = {}) {
    super(503, 'temporarily_unavailable', code, message, options);
    this.retryAfter = options.retryAfter ?? 5;
  }
}

/**
 * A remote document (issuer metadata, JWKS, an introspection answer) could not be used. Carried as
 * the `cause` of a {@link VerifierUnavailableError}, and thrown by `verifier.ready()`.
 *
 * @example
 * ```ts
 * await verifier.ready().catch((error) => {
 *   if (error.cause instanceof RemoteDocumentError) console.error(error.cause.code, error.cause.url);
 * });
 * ```
 */
export class RemoteDocumentError extends Error {
  constructor(
    /** `ERR_REMOTE_TIMEOUT`, `ERR_REMOTE_TOO_LARGE`, `ERR_JWKS_PRIVATE_KEY`… */
    readonly code: string,
    /** The URL fetched (never carries a credential: we put none in URLs). */
    readonly url: string,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemoteDocumentError';
    this.status = options.status;
  }
  /** The HTTP status, when the failure is an unexpected one (`ERR_REMOTE_STATUS`). */
  readonly status: number | undefined;
}
