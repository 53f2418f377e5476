/**
 * Verifying our access tokens: the shared core (@gatehouse/sdk/jwt) against the key ring, RFC 9068
 * typing and claims, then the denylist; a token seen before is answered from the verified-token
 * cache. Used by the JWT authenticator, by logout, and by introspection (OAuth). Never touches
 * the store: keys and denylist are in memory, so the answer is synchronous — no promise per
 * request — except while an unknown `kid` makes the key ring reload.
 */
import { type JwtErrorCode, type JwtVerification, verifyJwtDirect } from '@gatehouse/sdk/jwt';
import type { Clock } from '../audit/audit.js';
import { parseScopeList } from '../pipeline/pipeline.js';
import type { Identity } from '../pipeline/types.js';
import { ACCESS_TOKEN_TYPE } from './access-tokens.js';
import type { KeyRing } from './key-ring.js';
import type { Denylist } from './revocations.js';
import type { VerifiedTokenCache } from './verified-token-cache.js';

/** RFC 9068 §2.2: claims every access token of ours carries (docs/security.md #9). */
const REQUIRED_CLAIMS = ['sub', 'jti', 'iat', 'client_id'] as const;

export type AccessTokenCheck =
  | { readonly ok: true; readonly identity: Identity /** ms */; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: JwtErrorCode | 'revoked' }
  /** Asked for a memory-only answer, and the verified-token cache does not hold the token. */
  | { readonly ok: false; readonly reason: 'uncached' };

export interface AccessTokenVerifier {
  /**
   * Synchronous unless the key ring has to reload for an unknown `kid`; callers `await` it either
   * way. `memoryOnly` (the client has spent its verification failure budget): only a token the
   * verified-token cache holds is judged; any other is `uncached`, without a signature check or
   * a key-ring reload.
   */
  verify(token: string, memoryOnly?: boolean): AccessTokenCheck | Promise<AccessTokenCheck>;
}

export interface AccessTokenVerifierOptions {
  readonly keyRing: KeyRing;
  readonly denylist: Denylist;
  readonly cache: VerifiedTokenCache;
  readonly clock: Clock;
  /** Issuer and accepted audiences (settled once the public listener is bound). */
  readonly identity: { readonly issuer: string; readonly audiences: readonly string[] };
  readonly leewaySeconds: number;
  readonly maxTokenLength: number;
}

const UNCACHED: AccessTokenCheck = Object.freeze({ ok: false, reason: 'uncached' });

export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { keyRing, denylist, cache, clock } = options;
  const lookup = (kid: string) => keyRing.lookup(kid);
  const conclude = (token: string, result: JwtVerification, now: number): AccessTokenCheck => {
    if (!result.ok) return { ok: false, reason: result.code };
    const { claims, header } = result;
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string') {
      return { ok: false, reason: 'ERR_JWT_CLAIM_INVALID' };
    }
    if (denylist.isRevoked(claims)) return { ok: false, reason: 'revoked' };
    const identity: Identity = {
      subject: claims.sub,
      method: 'jwt',
      scopes: typeof claims.scope === 'string' ? parseScopeList(claims.scope) : [],
      clientId: claims.client_id,
      credentialId: claims.jti,
      claims,
    };
    const expiresAt = claims.exp * 1000;
    cache.set(token, { identity, expiresAt, kid: header.kid }, now);
    return { ok: true, identity, expiresAt };
  };
  return {
    verify(token, memoryOnly = false) {
      const now = clock.now();
      const cached = cache.get(token, now);
      if (cached) {
        return denylist.isRevoked(cached.identity.claims)
          ? { ok: false, reason: 'revoked' }
          : { ok: true, identity: cached.identity, expiresAt: cached.expiresAt };
      }
      if (memoryOnly) return UNCACHED;
      const result = verifyJwtDirect(token, lookup, {
        issuer: options.identity.issuer,
        audience: options.identity.audiences,
        types: [ACCESS_TOKEN_TYPE],
        requiredClaims: REQUIRED_CLAIMS,
        leewaySeconds: options.leewaySeconds,
        maxTokenLength: options.maxTokenLength,
        now: () => now,
      });
      return result instanceof Promise
        ? result.then((settled) => conclude(token, settled, now))
        : conclude(token, result, now);
    },
  };
}
