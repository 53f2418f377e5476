/**
 * The token endpoint's logic (RFC 6749 §3.2): check `grant_type`, authenticate the client, then
 * dispatch through the table of grant handlers. HTTP concerns (form parsing, duplicate
 * parameters, `Cache-Control`) live in http/oauth/token.ts.
 */
import type { ClientAuthenticator } from './client-auth.js';
import type { OAuthClient } from './clients.js';
import { InvalidRequest, type OAuthError, UnsupportedGrantType } from './errors.js';
import type { GrantHandler, TokenResponse } from './grants/grant.js';
import type { OAuthParams } from './params.js';

export interface TokenRequest {
  readonly authorization: string | undefined;
  readonly params: OAuthParams;
  readonly ip: string;
}

export type TokenOutcome =
  | {
      readonly ok: true;
      readonly response: TokenResponse;
      readonly client: OAuthClient;
      readonly grantType: string;
      readonly subject: string;
      readonly jti: string;
    }
  | { readonly ok: false; readonly error: OAuthError; readonly clientId?: string; readonly grantType?: string };

export interface TokenEndpoint {
  readonly grantTypes: readonly string[];
  exchange(request: TokenRequest): Promise<TokenOutcome>;
}

export function createTokenEndpoint(options: {
  readonly clientAuth: ClientAuthenticator;
  readonly grants: readonly GrantHandler[];
}): TokenEndpoint {
  const table = new Map<string, GrantHandler>(options.grants.map((grant) => [grant.grantType, grant]));
  return {
    grantTypes: [...table.keys()],
    async exchange({ authorization, params, ip }) {
      const grantType = params.get('grant_type');
      if (grantType === undefined) return { ok: false, error: new InvalidRequest('grant_type is missing') };
      const handler = table.get(grantType);
      if (!handler) {
        return { ok: false, grantType, error: new UnsupportedGrantType(`grant_type ${grantType} is not supported`) };
      }
      const authenticated = await options.clientAuth.authenticate({ authorization, params });
      if (!authenticated.ok) return { ok: false, grantType, error: authenticated.error };
      const { client } = authenticated;
      const outcome = await handler.handle({ client, params, ip });
      if (!outcome.ok) return { ok: false, grantType, clientId: client.id, error: outcome.error };
      return { ok: true, grantType, client, response: outcome.response, subject: outcome.subject, jti: outcome.jti };
    },
  };
}
