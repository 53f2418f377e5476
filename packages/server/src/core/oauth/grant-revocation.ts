/**
 * Revoking a grant: the refresh-token family dies and every unexpired access token issued under
 * the grant is denied by `jti`. Used when a code is reused (RFC 6749 §4.1.2, docs/security.md #15),
 * when a spent refresh token comes back (RFC 9700 §4.14, docs/security.md #17) and when a client
 * revokes a refresh token (RFC 7009 §2.1, docs/security.md #24).
 */
import type { Clock } from '../audit/audit.js';
import type { GrantRecord, GrantStore } from './authorization-store.js';
import type { AccessTokens, RefreshTokens } from './ports.js';

export interface GrantRevoker {
  revoke(grant: GrantRecord): Promise<{ accessTokens: number }>;
  revokeByFamily(familyId: string): Promise<void>;
}

export function createGrantRevoker(deps: {
  readonly grants: GrantStore;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly clock: Clock;
}): GrantRevoker {
  const revoke = async (grant: GrantRecord) => {
    const now = new Date(deps.clock.now()).toISOString();
    if (grant.familyId) await deps.refreshTokens.revokeFamily(grant.familyId);
    const tokens = await deps.grants.accessTokens(grant.id, now);
    for (const token of tokens) {
      await deps.accessTokens.revoke(token.jti, Math.ceil(Date.parse(token.expiresAt) / 1000));
    }
    await deps.grants.markRevoked(grant.id, now);
    return { accessTokens: tokens.length };
  };
  return {
    revoke,
    async revokeByFamily(familyId) {
      const grant = await deps.grants.findByFamily(familyId);
      if (grant) await revoke(grant);
      else await deps.refreshTokens.revokeFamily(familyId);
    },
  };
}
