/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14,
 * docs/security.md #17): every use returns a new refresh token; an already-used one coming back
 * revokes the grant (its refresh family and its access tokens). Scope may only narrow.
 */
import type { GrantRecord, GrantStore } from '../authorization-store.js';
import { GRANT_TYPES } from '../clients.js';
import { InvalidGrant, InvalidRequest } from '../errors.js';
import type { GrantRevoker } from '../grant-revocation.js';
import type { RefreshTokenGrant } from '../ports.js';
import { type GrantHandler, type GrantRequest, stepGrant, type TokenResponse } from './grant.js';
import { checkGrantAllowed, checkRequestedScope } from './shared-steps.js';
import { issueUserTokens, type UserTokenDeps } from './user-tokens.js';

interface Context {
  readonly request: GrantRequest;
  family: RefreshTokenGrant;
  grant: GrantRecord;
  scopes: readonly string[];
  response: TokenResponse;
  jti: string;
}

export function refreshTokenGrant(
  deps: UserTokenDeps & { readonly grants: GrantStore; readonly grantRevoker: GrantRevoker },
): GrantHandler {
  /** Spends the presented token; a spent one coming back revokes the grant (RFC 9700 §4.14.2). */
  const rotate = async (context: Context) => {
    const token = context.request.params.get('refresh_token');
    if (token === undefined) return new InvalidRequest('refresh_token is missing');
    const rotation = await deps.refreshTokens.rotate(token, context.request.client.id);
    if (!rotation.ok) {
      if (rotation.reason === 'reused' && rotation.familyId) await deps.grantRevoker.revokeByFamily(rotation.familyId);
      // RFC 6749 §5.2: invalid, expired, revoked, or issued to another client are all invalid_grant.
      return new InvalidGrant(
        rotation.reason === 'reused'
          ? 'The refresh token was already used; the grant is revoked'
          : 'The refresh token is not valid',
      );
    }
    context.family = rotation.grant;
    return undefined;
  };

  const loadGrant = async (context: Context) => {
    const grant = await deps.grants.findByFamily(context.family.familyId);
    if (!grant || grant.revokedAt !== null) return new InvalidGrant('The grant was revoked');
    context.grant = grant;
    return undefined;
  };

  /** A user who was deleted or disabled can no longer refresh. */
  const checkUser = async (context: Context) => {
    const users = deps.users();
    if (users && !(await users.findActiveUser(context.grant.subject))) {
      await deps.grantRevoker.revoke(context.grant);
      return new InvalidGrant('The user can no longer be issued tokens');
    }
    return undefined;
  };

  const issueTokens = async (context: Context) => {
    const { grant } = context;
    const issued = await issueUserTokens(deps, {
      client: context.request.client,
      grantId: grant.id,
      subject: grant.subject,
      scopes: context.scopes,
      audience: grant.audience,
      authTime: grant.authTime,
      family: context.family,
    });
    context.response = issued.response;
    context.jti = issued.jti;
    return undefined;
  };

  const steps = [
    checkGrantAllowed<Context>(GRANT_TYPES.refreshToken),
    rotate,
    loadGrant,
    checkUser,
    // RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted".
    checkRequestedScope<Context>((context) => context.family.scopes),
    issueTokens,
  ];

  return stepGrant<Context>(GRANT_TYPES.refreshToken, steps, (context) => ({
    response: context.response,
    subject: context.grant.subject,
    jti: context.jti,
  }));
}
