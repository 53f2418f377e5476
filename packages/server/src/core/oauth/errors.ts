/**
 * The OAuth 2.0 errors, one class per error code (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1;
 * RFC 8693 §2.2.2; RFC 8707 §2; OIDC Core §3.1.2.6). They are *values*: grant steps return them
 * for expected denials and the HTTP layer turns them into the RFC 6749 §5.2 JSON body (or an
 * error redirect at the authorization endpoint). Nothing here is thrown.
 */

export abstract class OAuthError {
  /** The wire code, spelled as the RFC spells it. */
  abstract readonly error: string;
  /** HTTP status at the token, introspection and revocation endpoints. */
  readonly status: number = 400;
  constructor(
    /** Human-readable `error_description`; never a secret, never which secret check failed. */
    readonly description: string,
  ) {}
}

/** RFC 6749 §5.2: missing, repeated or malformed parameter; more than one client authentication. */
export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
}

/**
 * RFC 6749 §5.2: client authentication failed. Always 401; the HTTP layer adds the
 * `WWW-Authenticate` challenge (required when the client used the Authorization header).
 */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status = 401;
  constructor(
    description: string,
    /** True when the client tried HTTP Basic: RFC 6749 §5.2 then requires 401 + a matching challenge. */
    readonly usedBasic = false,
    /** For logs and audit only (`unknown_client`, `bad_secret`, …). */
    readonly reason = 'invalid_client',
  ) {
    super(description);
  }
}

/** RFC 6749 §5.2: the code, refresh token or subject token is invalid, expired, revoked or not this client's. */
export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
}

/** RFC 6749 §5.2: the client may not use this grant type (docs/security.md #16). */
export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
}

/** RFC 6749 §5.2. */
export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
}

/** RFC 6749 §5.2 / §4.1.2.1: unknown scope, or more than the client (or original grant) holds. */
export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
}

/** RFC 8707 §2 / RFC 8693 §2.2.2: a `resource` or `audience` the client may not address. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target';
}

/** RFC 6749 §4.1.2.1. */
export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
}

/** RFC 6749 §4.1.2.1: the resource owner denied the request. */
export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
}

/** OIDC Core §3.1.2.6: `prompt=none` and the user is not logged in. */
export class LoginRequired extends OAuthError {
  readonly error = 'login_required';
}

/** OIDC Core §3.1.2.6: `prompt=none` and consent is needed. */
export class ConsentRequired extends OAuthError {
  readonly error = 'consent_required';
}

/** RFC 7009 §2.2.1. */
export class UnsupportedTokenType extends OAuthError {
  readonly error = 'unsupported_token_type';
}

/** RFC 6749 §4.1.2.1 / RFC 7009 §2.2.1: the store is unreachable (answered with 503). */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 503;
}

/** RFC 6750 §3.1, for the userinfo endpoint. */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token';
  override readonly status = 401;
}

/** RFC 6750 §3.1, for the userinfo endpoint. */
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope';
  override readonly status = 403;
}

/** The body of an OAuth error response (RFC 6749 §5.2). */
export function oauthErrorBody(error: OAuthError): { error: string; error_description: string } {
  return { error: error.error, error_description: error.description };
}
