/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token for
 * itself. `sub` is the client id (RFC 9068 §5), which can never be a user's id (docs/security.md #21);
 * no refresh token is issued (RFC 6749 §4.4.3).
 */
import { type AudienceChoice, chooseAudience } from '../audience.js';
import { GRANT_TYPES } from '../clients.js';
import type { IssuedAccessToken, TokenIssuer } from '../ports.js';
import { accessTokenResponse, type GrantHandler, type GrantRequest, stepGrant } from './grant.js';
import { checkGrantAllowed, checkRequestedScope } from './shared-steps.js';

interface Context {
  readonly request: GrantRequest;
  scopes: readonly string[];
  audience: AudienceChoice & { ok: true };
  issued: IssuedAccessToken;
}

export function clientCredentialsGrant(deps: { readonly issuer: TokenIssuer }): GrantHandler {
  const grantType = GRANT_TYPES.clientCredentials;

  /** RFC 8707 / RFC 8693 `resource` or `audience`, among the client's registered audiences. */
  const chooseTarget = (context: Context) => {
    const audience = chooseAudience(context.request.client, context.request.params);
    if (!audience.ok) return audience.error;
    context.audience = audience;
    return undefined;
  };

  const issueToken = async (context: Context) => {
    const { client } = context.request;
    context.issued = await deps.issuer.issueAccessToken({
      subject: client.id,
      clientId: client.id,
      scopes: context.scopes,
      audience: context.audience.audience,
      lifetimeSeconds: client.accessTokenLifetime ?? undefined,
    });
    return undefined;
  };

  const steps = [
    checkGrantAllowed<Context>(grantType),
    // RFC 6749 §3.3: without `scope`, the client's registered scopes are the pre-defined default.
    checkRequestedScope<Context>((context) => context.request.client.scopes),
    chooseTarget,
    issueToken,
  ];
  return stepGrant<Context>(grantType, steps, (context) => ({
    subject: context.request.client.id,
    jti: context.issued.jti,
    response: accessTokenResponse(context.issued, context.scopes),
  }));
}
