/**
 * What the OAuth server needs from other parts of Gatehouse, as narrow interfaces: signing and
 * verifying tokens and storing refresh tokens belong to the JWT feature, checking passwords and
 * reading users to the users feature. app.ts wires the real implementations in.
 */

export interface AccessTokenRequest {
  /** `sub`: a user id, or the client id for client credentials (RFC 9068 §2.2, §5). */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** `aud`; undefined → the issuer's default audience. */
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
  /** Signs an OIDC ID token (`typ: JWT`) with a key of the given algorithm. */
  signIdToken(claims: Readonly<Record<string, unknown>>, alg: 'RS256' | 'ES256'): Promise<string>;
  /** The algorithms `signIdToken` can use right now (a key of that type exists). */
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
   * not checked: the caller decides what it requires.
   */
  verify(token: string): Promise<AccessTokenCheck>;
  /** Denies the token by `jti` until its expiry (RFC 7009). */
  revoke(jti: string, expiresAt: number): Promise<void>;
}

export interface RefreshTokenGrant {
  readonly familyId: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Seconds since the epoch; the family's absolute expiry. */
  readonly expiresAt: number;
  /** Extra data the grant carries (auth_time, audience…). */
  readonly data: Readonly<Record<string, unknown>>;
}

export type RefreshRotation =
  | { readonly ok: true; readonly token: string; readonly grant: RefreshTokenGrant }
  /** `reused` means the family was revoked because an already-used token came back (RFC 9700 §4.14). */
  | {
      readonly ok: false;
      readonly reason: 'unknown' | 'expired' | 'revoked' | 'reused' | 'wrong_client';
      readonly familyId?: string;
    };

export interface RefreshTokens {
  issue(grant: Omit<RefreshTokenGrant, 'familyId' | 'expiresAt'> & { lifetimeSeconds?: number | undefined }): Promise<{
    token: string;
    grant: RefreshTokenGrant;
  }>;
  /** Rotates: the presented token is spent and a new one of the same family returned. */
  rotate(token: string, clientId: string): Promise<RefreshRotation>;
  /** Looks a token up without spending it; undefined when unknown, spent, expired or revoked. */
  inspect(token: string): Promise<RefreshTokenGrant | undefined>;
  revokeFamily(familyId: string): Promise<void>;
}

export interface OAuthUser {
  readonly id: string;
  readonly username: string;
  /** Scopes the user holds (the non-OIDC scopes of a grant are limited to these). */
  readonly scopes: readonly string[];
  /** Free-form metadata; standard OIDC claims are read from it (`name`, `email`, …). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type PasswordCheck =
  | { readonly ok: true; readonly user: OAuthUser }
  | { readonly ok: false; readonly reason: string; readonly retryAfterSeconds?: number };

export interface UserAuthenticator {
  /** Checks a username and password, with the users feature's throttling and timing rules. */
  verify(username: string, password: string, context: { ip: string }): Promise<PasswordCheck>;
}

export interface UserDirectory {
  findById(id: string): Promise<OAuthUser | undefined>;
  /** Whether an id or username names a user (a client id may not, SECURITY.md #21). */
  isUserSubject(id: string): Promise<boolean>;
}
