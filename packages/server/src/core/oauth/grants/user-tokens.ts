/**
 * Issuing the tokens of a user grant (authorization code, refresh): an access token recorded
 * under the grant (so that revoking the grant can deny it), a refresh token when the client may
 * refresh, and an ID token when `openid` was granted.
 */
import type { Clock } from '../../audit/audit.js';
import type { GrantStore } from '../authorization-store.js';
import { GRANT_TYPES, type OAuthClient } from '../clients.js';
import { createIdToken } from '../id-token.js';
import type { RefreshTokenGrant, RefreshTokens, TokenIssuer, UserDirectory } from '../ports.js';
import { accessTokenResponse, type TokenResponse } from './grant.js';

export interface UserTokenDeps {
  readonly issuer: TokenIssuer;
  readonly refreshTokens: RefreshTokens;
  readonly grants: GrantStore;
  readonly users: () => UserDirectory | undefined;
  readonly clock: Clock;
}

export interface UserGrantInput {
  readonly client: OAuthClient;
  readonly grantId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly audience: readonly string[] | undefined;
  readonly authTime: number;
  /** Present on the code grant; OIDC Core §12.1: refreshes issue no new ID token here. */
  readonly idToken?: { readonly nonce: string | undefined } | undefined;
  /** On refresh: the family the new refresh token continues (rotation). */
  readonly family?: RefreshTokenGrant | undefined;
}

export async function issueUserTokens(
  deps: UserTokenDeps,
  input: UserGrantInput,
): Promise<{ response: TokenResponse; jti: string }> {
  const { client } = input;
  const access = await deps.issuer.issueAccessToken({
    subject: input.subject,
    clientId: client.id,
    scopes: input.scopes,
    audience: input.audience,
    lifetimeSeconds: client.accessTokenLifetime ?? undefined,
    claims: { auth_time: input.authTime },
  });
  await deps.grants.addAccessToken(input.grantId, access.jti, new Date(access.expiresAt * 1000).toISOString());

  let refreshToken: string | undefined;
  if (input.family || client.grantTypes.includes(GRANT_TYPES.refreshToken)) {
    const issued = await deps.refreshTokens.issue({
      subject: input.subject,
      clientId: client.id,
      // The family keeps the scope originally granted; a narrowed refresh narrows only the access token.
      scopes: input.family?.scopes ?? input.scopes,
      audience: access.audience,
      accessJti: access.jti,
      accessExpiresAt: access.expiresAt,
      family: input.family,
    });
    refreshToken = issued.token;
    if (!input.family) await deps.grants.setFamily(input.grantId, issued.grant.familyId);
  }

  let idToken: string | undefined;
  if (input.idToken && input.scopes.includes('openid')) {
    idToken = await createIdToken({
      issuer: deps.issuer,
      client,
      subject: input.subject,
      user: await deps.users()?.findActiveUser(input.subject),
      scopes: input.scopes,
      nonce: input.idToken.nonce,
      authTime: input.authTime,
      accessToken: access.token,
      now: deps.clock.now(),
    });
  }

  return {
    jti: access.jti,
    response: {
      ...accessTokenResponse(access, input.scopes),
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
      ...(idToken !== undefined ? { id_token: idToken } : {}),
    },
  };
}
