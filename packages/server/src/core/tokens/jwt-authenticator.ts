/**
 * The `jwt` mechanism of the authentication pipeline: `Authorization: Bearer <jwt>` (RFC 6750
 * §2.1), verified by ./access-token-verifier.ts. Refusals are 401 `invalid_token` (RFC 6750 §3.1,
 * docs/security.md #11) with the precise reason kept for logs and audit.
 */
import type { JwtErrorCode } from '@gatehouse/sdk/jwt';
import { afterBearerScheme } from '../pipeline/bearer.js';
import type { Authenticator, AuthOutcome } from '../pipeline/types.js';
import type { AccessTokenCheck, AccessTokenVerifier } from './access-token-verifier.js';

/** What the caller is told: precise where it helps a legitimate client, generic otherwise. */
const DESCRIPTIONS: Partial<Record<JwtErrorCode | 'revoked', string>> = {
  ERR_JWT_EXPIRED: 'The access token expired',
  ERR_JWT_NOT_YET_VALID: 'The access token is not valid yet',
  ERR_JWT_TOO_LARGE: 'The access token is too large',
  revoked: 'The access token has been revoked',
};

const rejected = (reason: JwtErrorCode | 'revoked'): AuthOutcome => ({
  kind: 'rejected',
  rejection: {
    status: 401,
    error: 'invalid_token',
    description: DESCRIPTIONS[reason] ?? 'The access token is invalid',
    reason,
  },
});

const ABSENT: AuthOutcome = { kind: 'absent' };

const UNCACHED: AuthOutcome = { kind: 'uncached' };

const outcomeOf = (checked: AccessTokenCheck): AuthOutcome => {
  if (checked.ok) return { kind: 'authenticated', identity: checked.identity };
  return checked.reason === 'uncached' ? UNCACHED : rejected(checked.reason);
};

/**
 * The JWT-shaped bearer token of a request: `undefined` when there is none (no Authorization, another
 * scheme, or a bearer credential without dots, such as an API key: another mechanism's to judge),
 * or the refusal for one that is ours but too long to look at.
 *
 * RFC 6750's b64token syntax is not checked here: the token is either one the verified-token cache
 * holds (so it passed the JWT core before, whose canonical base64url is stricter than b64token) or
 * goes through the JWT core now, which refuses anything else as ERR_JWT_MALFORMED — the answer
 * this function gave when it ran a regex over every token first.
 */
export function bearerJwt(
  authorization: string | undefined,
  maxTokenLength: number,
): string | undefined | { readonly refuse: 'ERR_JWT_TOO_LARGE' } {
  const credential = afterBearerScheme(authorization);
  if (credential === undefined) return undefined;
  let end = credential.length;
  while (credential.charCodeAt(end - 1) === 32) end--; // RFC 6750 §2.1 allows none; we forgive spaces
  const value = end === credential.length ? credential : credential.slice(0, end);
  if (!value.includes('.')) return undefined;
  // docs/security.md #12: cap the length before decoding.
  if (value.length > maxTokenLength) return { refuse: 'ERR_JWT_TOO_LARGE' };
  return value;
}

export function createJwtAuthenticator(settings: {
  readonly verifier: AccessTokenVerifier;
  readonly maxTokenLength: number;
}): Authenticator {
  return {
    name: 'jwt',
    budgeted: true,
    challenge(error) {
      // RFC 6750 §3: the realm, and an error only when a token was presented and refused.
      return error
        ? `Bearer realm="gatehouse", error="${error.error}", error_description="${error.description.replace(/["\\]/g, '')}"`
        : 'Bearer realm="gatehouse"';
    },
    // Synchronous when the verifier is (a cached token, or a known key): no promise per request.
    authenticate(request, _policy, options) {
      const token = bearerJwt(request.header('authorization'), settings.maxTokenLength);
      if (token === undefined) return ABSENT;
      if (typeof token !== 'string') return rejected(token.refuse);
      const checked = settings.verifier.verify(token, options?.memoryOnly === true);
      return checked instanceof Promise ? checked.then(outcomeOf) : outcomeOf(checked);
    },
  };
}
