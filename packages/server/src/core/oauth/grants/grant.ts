/** What every grant type handler is: the token endpoint dispatches on `grant_type` to one of these. */
import type { GrantType, OAuthClient } from '../clients.js';
import type { OAuthError } from '../errors.js';
import type { OAuthParams } from '../params.js';
import { runSteps, type Step } from '../steps.js';

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1, OIDC Core §3.1.3.3) success body. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly issued_token_type?: string;
}

/** The RFC 6749 §5.1 body for an access token alone (no refresh token). */
export function accessTokenResponse(
  issued: { readonly token: string; readonly expiresIn: number },
  scopes: readonly string[],
  extra: { readonly issued_token_type?: string } = {},
): TokenResponse {
  return {
    access_token: issued.token,
    ...extra,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: scopes.join(' '),
  };
}

export interface GrantRequest {
  /** The authenticated client (RFC 6749 §3.2.1). */
  readonly client: OAuthClient;
  readonly params: OAuthParams;
  readonly ip: string;
}

export type GrantOutcome =
  | { readonly ok: true; readonly response: TokenResponse; readonly subject: string; readonly jti: string }
  | { readonly ok: false; readonly error: OAuthError };

export interface GrantHandler {
  readonly grantType: GrantType;
  handle(request: GrantRequest): Promise<GrantOutcome>;
}

/**
 * A grant handler made of ordered steps over a per-request context: the first step that answers
 * an error ends the request; when all pass, `succeed` reads the outcome from the context.
 */
export function stepGrant<C extends { readonly request: GrantRequest }>(
  grantType: GrantType,
  steps: readonly Step<C>[],
  succeed: (context: C) => { readonly response: TokenResponse; readonly subject: string; readonly jti: string },
): GrantHandler {
  return {
    grantType,
    async handle(request) {
      const context = { request } as C;
      const error = await runSteps(context, steps);
      return error ? { ok: false, error } : { ok: true, ...succeed(context) };
    },
  };
}
