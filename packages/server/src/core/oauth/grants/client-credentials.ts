/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token for
 * itself. `sub` is the client id (RFC 9068 §5), which can never be a user's id (SECURITY.md #21);
 * no refresh token is issued (RFC 6749 §4.4.3).
 */
import { type AudienceChoice, chooseAudience } from '../audience.js';
import { GRANT_TYPES } from '../clients.js';
import type { IssuedAccessToken, TokenIssuer } from '../ports.js';
import { formatScope } from '../scopes.js';
import { runSteps } from '../steps.js';
import type { GrantHandler, GrantRequest } from './grant.js';
import { checkGrantAllowed, checkRequestedScope } from './shared-steps.js';

interface Context {
  readonly request: GrantRequest;
  scopes: readonly string[];
  audience: AudienceChoice & { ok: true };
  issued: IssuedAccessToken;
}

export function clientCredentialsGrant(deps: { readonly issuer: TokenIssuer }): GrantHandler {
  const grantType = GRANT_TYPES.clientCredentials;
  const steps = [
    checkGrantAllowed<Context>(grantType),
    // RFC 6749 §3.3: without `scope`, the client's registered scopes are the pre-defined default.
    checkRequestedScope<Context>((context) => context.request.client.scopes),
    (context: Context) => {
      const audience = chooseAudience(context.request.client, context.request.params);
      if (!audience.ok) return audience.error;
      context.audience = audience;
      return undefined;
    },
    async (context: Context) => {
      const { client } = context.request;
      context.issued = await deps.issuer.issueAccessToken({
        subject: client.id,
        clientId: client.id,
        scopes: context.scopes,
        audience: context.audience.audience,
        lifetimeSeconds: client.accessTokenLifetime ?? undefined,
      });
      return undefined;
    },
  ];
  return {
    grantType,
    async handle(request) {
      const context = { request } as Context;
      const error = await runSteps(context, steps);
      if (error) return { ok: false, error };
      return {
        ok: true,
        subject: request.client.id,
        jti: context.issued.jti,
        response: {
          access_token: context.issued.token,
          token_type: 'Bearer',
          expires_in: context.issued.expiresIn,
          scope: formatScope(context.scopes),
        },
      };
    },
  };
}
