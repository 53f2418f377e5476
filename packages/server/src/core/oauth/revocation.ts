/**
 * Token revocation (RFC 7009). A client revokes its own refresh and access tokens. Revoking a
 * refresh token revokes its grant, so the access tokens issued under it die too (RFC 7009 §2.1,
 * docs/security.md #24). Unknown, expired or malformed tokens answer success (RFC 7009 §2.2). A token
 * issued to another client is left alone and the request refused (RFC 7009 §2.1: "the request is
 * refused and the client is informed of the error").
 */
import type { OAuthClient } from './clients.js';
import { type OAuthError, UnauthorizedClient } from './errors.js';
import type { GrantRevoker } from './grant-revocation.js';
import type { AccessTokens, RefreshTokens } from './ports.js';

export interface Revoker {
  revoke(input: {
    client: OAuthClient;
    token: string;
    hint: string | undefined;
  }): Promise<{ ok: true; revoked: 'refresh_token' | 'access_token' | 'none' } | { ok: false; error: OAuthError }>;
}

export function createRevoker(deps: {
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly grantRevoker: GrantRevoker;
}): Revoker {
  const notYours = () => ({
    ok: false as const,
    error: new UnauthorizedClient('The token was not issued to this client'),
  });

  async function asRefreshToken(client: OAuthClient, token: string) {
    const grant = await deps.refreshTokens.inspect(token);
    if (!grant) return undefined;
    if (grant.clientId !== client.id) return notYours();
    await deps.grantRevoker.revokeByFamily(grant.familyId);
    return { ok: true as const, revoked: 'refresh_token' as const };
  }

  async function asAccessToken(client: OAuthClient, token: string) {
    if (token.split('.').length !== 3) return undefined;
    const checked = await deps.accessTokens.verify(token);
    if (!checked.ok) return undefined;
    if (checked.token.clientId !== client.id) return notYours();
    const exp = Number(checked.token.claims.exp);
    await deps.accessTokens.revoke(checked.token.jti, exp);
    return { ok: true as const, revoked: 'access_token' as const };
  }

  return {
    async revoke({ client, token, hint }) {
      if (token.length > 16_384) return { ok: true, revoked: 'none' };
      // RFC 7009 §2.1: the hint only orders the search.
      const order = hint === 'access_token' ? [asAccessToken, asRefreshToken] : [asRefreshToken, asAccessToken];
      for (const attempt of order) {
        const outcome = await attempt(client, token);
        if (outcome) return outcome;
      }
      return { ok: true, revoked: 'none' };
    },
  };
}
