/**
 * The `jwt` mechanism of the authentication pipeline: `Authorization: Bearer <jwt>` (RFC 6750
 * §2.1), verified by ./access-token-verifier.ts. Refusals are 401 `invalid_token` (RFC 6750 §3.1,
 * SECURITY.md #11) with the precise reason kept for logs and audit.
 */
import type { JwtErrorCode } from '@gatehouse/sdk/jwt';
import type { Authenticator, AuthOutcome } from '../pipeline/types.js';
import type { AccessTokenCheck, AccessTokenVerifier } from './access-token-verifier.js';

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme, RFC 9110 §11.1) and a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

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

const BEARER_SCHEME = /^bearer +/i;

const ABSENT: AuthOutcome = { kind: 'absent' };

const outcomeOf = (checked: AccessTokenCheck): AuthOutcome =>
  checked.ok ? { kind: 'authenticated', identity: checked.identity } : rejected(checked.reason);

/**
 * The JWT-shaped bearer token of a request: `undefined` when there is none (no Authorization, another
 * scheme, or a bearer credential without dots, such as an API key: another mechanism's to judge),
 * or the refusal for one that is ours but unusable (oversized, or not RFC 6750 b64token syntax).
 */
export function bearerJwt(
  authorization: string | undefined,
  maxTokenLength: number,
): string | undefined | { readonly refuse: 'ERR_JWT_TOO_LARGE' | 'ERR_JWT_MALFORMED' } {
  if (authorization === undefined || !BEARER_SCHEME.test(authorization)) return undefined;
  const value = authorization.replace(BEARER_SCHEME, '').trim();
  if (!value.includes('.')) return undefined;
  // SECURITY.md #12: cap the length before decoding.
  if (value.length > maxTokenLength) return { refuse: 'ERR_JWT_TOO_LARGE' };
  return BEARER.test(authorization) ? value : { refuse: 'ERR_JWT_MALFORMED' };
}

export function createJwtAuthenticator(options: {
  readonly verifier: AccessTokenVerifier;
  readonly maxTokenLength: number;
}): Authenticator {
  return {
    name: 'jwt',
    challenge(error) {
      // RFC 6750 §3: the realm, and an error only when a token was presented and refused.
      return error
        ? `Bearer realm="gatehouse", error="${error.error}", error_description="${error.description.replace(/["\\]/g, '')}"`
        : 'Bearer realm="gatehouse"';
    },
    // Synchronous when the verifier is (a cached token, or a known key): no promise per request.
    authenticate(request) {
      const token = bearerJwt(request.header('authorization'), options.maxTokenLength);
      if (token === undefined) return ABSENT;
      if (typeof token !== 'string') return rejected(token.refuse);
      const checked = options.verifier.verify(token);
      return checked instanceof Promise ? checked.then(outcomeOf) : outcomeOf(checked);
    },
  };
}
