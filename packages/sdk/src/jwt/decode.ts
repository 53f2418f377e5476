/**
 * Reading a token without verifying it, for display only (`gatehouse token decode`): the same
 * strict decoding as verification, so that what is shown is what a verifier would parse.
 */
import { failure, type JwtFailure } from './errors.js';
import { decodeJsonSegment, isCanonicalBase64url } from './segments.js';

export type DecodedJwt =
  | { readonly ok: true; readonly header: Record<string, unknown>; readonly claims: Record<string, unknown> }
  | JwtFailure;

/**
 * Decodes a compact JWS JWT's header and claims WITHOUT checking the signature. Never base a
 * decision on the result: use `verifyJwt`.
 *
 * @example
 * ```ts
 * const decoded = decodeJwtUnverified(token);
 * if (decoded.ok) console.log(decoded.header.kid, decoded.claims.exp);
 * ```
 */
export function decodeJwtUnverified(token: string, maxTokenLength = 65_536): DecodedJwt {
  if (token.length > maxTokenLength) return failure('ERR_JWT_TOO_LARGE', 'The token is longer than allowed');
  const segments = token.split('.');
  if (segments.length !== 3) return failure('ERR_JWT_MALFORMED', 'A JWT has exactly three dot-separated segments');
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  if (![headerSegment, payloadSegment, signatureSegment].every(isCanonicalBase64url)) {
    return failure('ERR_JWT_MALFORMED', 'Each segment must be unpadded, canonical base64url');
  }
  const header = decodeJsonSegment(headerSegment);
  if (!header.ok) return failure('ERR_JWT_MALFORMED', `The JWS header ${header.problem}`);
  const claims = decodeJsonSegment(payloadSegment);
  if (!claims.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${claims.problem}`);
  return { ok: true, header: header.value, claims: claims.value };
}
