/**
 * Access tokens as RFC 9068 JWTs: header `typ: at+jwt` and `kid` (§2.1), claims `iss`, `exp`,
 * `aud`, `sub`, `client_id`, `iat`, `jti` (§2.2, docs/security.md #9), plus `nbf`, `scope` (§2.2.3) and
 * mapped custom claims. Signed through jose with the key ring's active key.
 */
import { SignJWT } from 'jose';
import type { Clock } from '../audit/audit.js';
import { randomBase64url } from '../secrets/random.js';
import type { KeyRing } from './key-ring.js';

/** RFC 9068 §2.1: the media type of JWT access tokens, in its short form (RFC 7515 §4.1.9). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenRequest {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly audience: string | readonly string[];
  /** Custom claims (already checked not to collide with registered ones). */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
  /** Overrides the configured lifetime (e.g. a client's own setting), in milliseconds. */
  readonly lifetimeMs?: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly kid: string;
  /** Seconds, for `expires_in`. */
  readonly expiresIn: number;
  /** `exp` in milliseconds. */
  readonly expiresAt: number;
  readonly scope: string;
}

export interface AccessTokenIssuer {
  issue(request: AccessTokenRequest): Promise<IssuedAccessToken>;
}

export function createAccessTokenIssuer(options: {
  readonly keyRing: KeyRing;
  readonly issuer: () => string;
  readonly accessTtlMs: number;
  readonly clock: Clock;
}): AccessTokenIssuer {
  return {
    async issue(request) {
      const signer = await options.keyRing.signer();
      const now = Math.floor(options.clock.now() / 1000);
      const lifetime = Math.max(1, Math.floor((request.lifetimeMs ?? options.accessTtlMs) / 1000));
      // 144 random bits (docs/security.md #20).
      const jti = randomBase64url(18);
      const scope = request.scopes.join(' ');
      const claims: Record<string, unknown> = {
        ...request.extraClaims,
        client_id: request.clientId,
        ...(scope ? { scope } : {}),
      };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(options.issuer())
        .setSubject(request.subject)
        .setAudience(request.audience as string | string[])
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + lifetime)
        .setJti(jti)
        .sign(signer.key);
      return { token, jti, kid: signer.kid, expiresIn: lifetime, expiresAt: (now + lifetime) * 1000, scope };
    },
  };
}
