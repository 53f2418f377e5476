/** What every grant type handler is: the token endpoint dispatches on `grant_type` to one of these. */
import type { GrantType, OAuthClient } from '../clients.js';
import type { OAuthError } from '../errors.js';
import type { OAuthParams } from '../params.js';

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
