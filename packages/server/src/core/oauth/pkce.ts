/**
 * PKCE (RFC 7636), S256 only (docs/security.md #14; RFC 9700 §2.1.1): `plain` would hand the verifier to
 * whoever sees the authorization request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: `code-verifier = 43*128unreserved`. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** RFC 7636 §4.6: compare BASE64URL(SHA256(code_verifier)) with the stored challenge, in constant time. */
export function verifyPkce(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(s256(verifier));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
