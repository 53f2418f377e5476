/**
 * Token issuance and revocation flows, as ordered lists of small steps: login (credentials →
 * scope → audience → access token → refresh token), refresh (consume → user still active →
 * scope never widens → new pair in the same family), logout, and administrative revocation.
 * Expected denials are values; only infrastructure failures throw.
 */
import type { AccessTokenIssuer, IssuedAccessToken } from './access-tokens.js';
import { mapUserClaims } from './claim-mapping.js';
import type { LoginUser, UserDirectory } from './login.js';
import type { RefreshTokenRecord, RefreshTokens } from './refresh-tokens.js';
import type { Denylist, RevocationKind } from './revocations.js';

/** The client id of tokens issued by `/auth/login` (RFC 9068 requires a `client_id`). */
export const LOGIN_CLIENT_ID = 'gatehouse-login';

export interface TokenPair {
  readonly access: IssuedAccessToken;
  readonly refreshToken: string;
  readonly subject: string;
  readonly familyId: string;
}

export type TokenDenial =
  | {
      readonly ok: false;
      readonly error: 'invalid_credentials';
      /** For audit only: why, and which account. */
      readonly detail: string;
      readonly userId: string | null;
    }
  | { readonly ok: false; readonly error: 'throttled'; readonly retryAfterSeconds: number }
  | { readonly ok: false; readonly error: 'invalid_scope'; readonly detail: string }
  | { readonly ok: false; readonly error: 'invalid_audience'; readonly detail: string }
  | { readonly ok: false; readonly error: 'invalid_grant'; readonly reason: string };

export type TokenResult = ({ readonly ok: true } & TokenPair) | TokenDenial;

export interface TokenServiceOptions {
  readonly users: UserDirectory;
  readonly accessTokens: AccessTokenIssuer;
  readonly refreshTokens: RefreshTokens;
  readonly denylist: Denylist;
  readonly claimMapping: Readonly<Record<string, string>>;
  readonly defaultAudience: string;
  readonly audiences: readonly string[];
  /** The longest access-token lifetime plus leeway: how long subject/client revocations last. */
  readonly revocationHorizonMs: number;
  readonly now: () => number;
  readonly onFamilyRevoked?: (records: readonly RefreshTokenRecord[], reason: string) => void;
}

export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  readonly scope?: string | undefined;
  readonly audience?: string | undefined;
  readonly ip: string;
}

export interface TokenService {
  login(request: LoginRequest): Promise<TokenResult>;
  refresh(refreshToken: string, clientId?: string): Promise<TokenResult>;
  /** Revokes the refresh token's family and the access tokens issued from it. */
  logout(refreshToken: string, clientId?: string): Promise<number>;
  /** Administrative revocation by jti, subject or client. */
  revoke(kind: RevocationKind, value: string): Promise<{ refreshTokensRevoked: number }>;
  /** Denylists a verified access token until its `exp` (logout with a bearer token). */
  revokeAccessToken(jti: string, expiresAtMs: number): Promise<void>;
}

const splitScope = (scope: string | undefined) => (scope ?? '').split(' ').filter((item) => item.length > 0);

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { accessTokens, refreshTokens, denylist } = options;
  const iso = (ms: number) => new Date(ms).toISOString();

  /** Denylists the unexpired access tokens issued with a revoked family's refresh tokens. */
  async function revokeIssuedAccessTokens(records: readonly RefreshTokenRecord[], reason: string): Promise<void> {
    const now = options.now();
    for (const record of records) {
      if (record.accessJti && record.accessExpiresAt && Date.parse(record.accessExpiresAt) > now) {
        await denylist.revoke({ kind: 'jti', value: record.accessJti, expiresAt: record.accessExpiresAt });
      }
    }
    if (records.length > 0) options.onFamilyRevoked?.(records, reason);
  }

  async function issuePair(
    user: LoginUser,
    scopes: readonly string[],
    audience: string,
    clientId: string,
    family?: { id: string; expiresAt: string },
  ): Promise<TokenResult> {
    const access = await accessTokens.issue({
      subject: user.id,
      clientId,
      scopes,
      audience,
      extraClaims: mapUserClaims(options.claimMapping, user),
    });
    const refresh = await refreshTokens.issue({
      subject: user.id,
      clientId,
      scope: scopes.join(' '),
      audience,
      accessJti: access.jti,
      accessExpiresAt: access.expiresAt,
      ...(family ? { family } : {}),
    });
    return { ok: true, access, refreshToken: refresh.token, subject: user.id, familyId: refresh.record.familyId };
  }

  return {
    async login(request) {
      const checked = await options.users.verifyCredentials(request.username, request.password, { ip: request.ip });
      if (!checked.ok) {
        return checked.reason === 'throttled'
          ? { ok: false, error: 'throttled', retryAfterSeconds: checked.retryAfterSeconds ?? 1 }
          : {
              ok: false,
              error: 'invalid_credentials',
              detail: checked.detail ?? 'invalid',
              userId: checked.userId ?? null,
            };
      }
      const { user } = checked;
      // RFC 6749 §3.3: the requested scope must be a subset of what the user holds; none asked → all.
      const requested = request.scope === undefined ? [...user.scopes] : [...new Set(splitScope(request.scope))];
      const missing = requested.filter((scope) => !user.scopes.includes(scope));
      if (missing.length > 0) {
        return { ok: false, error: 'invalid_scope', detail: `not granted to this user: ${missing.join(' ')}` };
      }
      const audience = request.audience ?? options.defaultAudience;
      if (audience !== options.defaultAudience && !options.audiences.includes(audience)) {
        return { ok: false, error: 'invalid_audience', detail: 'is not an audience this server issues tokens for' };
      }
      return issuePair(user, requested, audience, LOGIN_CLIENT_ID);
    },

    async refresh(refreshToken, clientId = LOGIN_CLIENT_ID) {
      const consumed = await refreshTokens.consume(refreshToken, clientId);
      if (!consumed.ok) {
        if (consumed.reason === 'reused' && consumed.revoked) {
          await revokeIssuedAccessTokens(consumed.revoked, 'refresh_token_reused');
        }
        return { ok: false, error: 'invalid_grant', reason: consumed.reason };
      }
      const { record } = consumed;
      const user = await options.users.findActiveUser(record.subject);
      if (!user) {
        await revokeIssuedAccessTokens(await refreshTokens.revokeFamily(record.familyId), 'user_inactive');
        return { ok: false, error: 'invalid_grant', reason: 'user_inactive' };
      }
      // RFC 6749 §6: the new scope never exceeds the original; it also shrinks with the user's.
      const scopes = splitScope(record.scope).filter((scope) => user.scopes.includes(scope));
      return issuePair(user, scopes, record.audience, record.clientId, {
        id: record.familyId,
        expiresAt: record.expiresAt,
      });
    },

    async logout(refreshToken, clientId = LOGIN_CLIENT_ID) {
      const revoked = await refreshTokens.revokeFamilyOf(refreshToken, clientId);
      await revokeIssuedAccessTokens(revoked, 'logout');
      return revoked.length;
    },

    async revoke(kind, value) {
      const now = options.now();
      // No token concerned can outlive the longest access-token lifetime from now.
      await denylist.revoke({ kind, value, expiresAt: iso(now + options.revocationHorizonMs) });
      if (kind === 'jti') return { refreshTokensRevoked: 0 };
      const revoked = await refreshTokens.revokeWhere(kind === 'subject' ? { subject: value } : { clientId: value });
      return { refreshTokensRevoked: revoked.length };
    },

    async revokeAccessToken(jti, expiresAtMs) {
      if (expiresAtMs > options.now()) await denylist.revoke({ kind: 'jti', value: jti, expiresAt: iso(expiresAtMs) });
    },
  };
}
