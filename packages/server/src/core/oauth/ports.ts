/**
 * What the OAuth server needs from other parts of Gatehouse, as narrow interfaces. Signing,
 * verifying and revoking tokens and storing refresh tokens belong to the JWT feature
 * (core/tokens/), users to the users feature (through core/tokens/login.ts `UserDirectory`, the
 * same directory `/auth/login` uses). `oauth-services.ts` adapts the real implementations.
 */
export type { LoginUser, UserDirectory } from '../tokens/login.js';

export interface AccessTokenRequest {
  /** `sub`: a user id, or the client id for client credentials (RFC 9068 §2.2, §5). */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** `aud`; undefined → the server's default audience. */
  readonly audience?: readonly string[] | undefined;
  /** Lifetime in seconds; undefined → the configured default. */
  readonly lifetimeSeconds?: number | undefined;
  /** Extra claims (`auth_time`, `act`, …); never overrides the registered ones. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly expiresIn: number;
  readonly audience: readonly string[];
}

/** Signs tokens with the server's signing keys. */
export interface TokenIssuer {
  readonly issuer: string;
  issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken>;
  /** Signs an OIDC ID token (`typ: JWT`) with the active signing key. */
  signIdToken(claims: Readonly<Record<string, unknown>>): Promise<string>;
  /** The algorithms ID tokens are signed with (empty when none is possible, e.g. HS256 keys). */
  idTokenAlgorithms(): readonly string[];
}

/** A verified access token issued by this server, as introspection and userinfo see it. */
export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  readonly jti: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export type AccessTokenCheck =
  | { readonly ok: true; readonly token: VerifiedAccessToken }
  | { readonly ok: false; readonly reason: string };

export interface AccessTokens {
  /**
   * Verifies one of our access tokens (signature, `typ`, `iss`, `exp`, denylist). The audience is
   * not checked: this server issued it, whatever resource it names; the caller decides.
   */
  verify(token: string): Promise<AccessTokenCheck>;
  /** Denies the token by `jti` until its expiry (seconds since the epoch; RFC 7009). */
  revoke(jti: string, expiresAt: number): Promise<void>;
}

export interface RefreshTokenGrant {
  readonly familyId: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Seconds since the epoch; the family's absolute expiry. */
  readonly expiresAt: number;
}

export type RefreshRotation =
  /** The presented token is spent; issue its successor with `issue({ family: grant })`. */
  | { readonly ok: true; readonly grant: RefreshTokenGrant }
  /** `reused` means the family was revoked because an already-used token came back (RFC 9700 §4.14). */
  | {
      readonly ok: false;
      readonly reason: 'malformed' | 'unknown' | 'expired' | 'revoked' | 'reused' | 'wrong_client';
      readonly familyId?: string;
    };

export interface NewRefreshToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly audience: readonly string[];
  /** The access token issued alongside: denied when the family is revoked. */
  readonly accessJti: string;
  /** Seconds since the epoch. */
  readonly accessExpiresAt: number;
  /** Continue this family (rotation) instead of starting one. */
  readonly family?: RefreshTokenGrant | undefined;
}

export interface RefreshTokens {
  issue(request: NewRefreshToken): Promise<{ token: string; grant: RefreshTokenGrant }>;
  /** Spends the token (rotation), detecting reuse. */
  rotate(token: string, clientId: string): Promise<RefreshRotation>;
  /** Looks a token up without spending it; undefined when unknown, spent, expired or revoked. */
  inspect(token: string): Promise<RefreshTokenGrant | undefined>;
  /** Revokes the family and denies the access tokens issued with it. */
  revokeFamily(familyId: string): Promise<void>;
}
