/**
 * The one stable code per verification failure, as jose names its errors (`ERR_JWT_EXPIRED`).
 * Callers switch on `code`; `message` is for people and logs. A failure is a value, never thrown:
 * a bad token is an expected input, not an exceptional one.
 */
export type JwtErrorCode =
  /** Longer than `maxTokenLength`, refused before any decoding (RFC 8725bis §3.13). */
  | 'ERR_JWT_TOO_LARGE'
  /** Not a compact JWS of three strict base64url segments holding UTF-8 JSON objects with unique names. */
  | 'ERR_JWT_MALFORMED'
  /** `alg` is `none`, unknown, or not the one algorithm of the key named by `kid` (RFC 8725 §3.1). */
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  /** The header carries `jku`, `x5u`, `jwk` or `x5c`: keys never come from the token (RFC 8725 §3.10). */
  | 'ERR_JWT_FORBIDDEN_HEADER'
  /** `crit` names an extension this verifier does not understand (RFC 7515 §4.1.11). */
  | 'ERR_JWT_CRIT'
  /** `cty: JWT`: nested tokens are refused (RFC 8725bis §3.14). */
  | 'ERR_JWT_NESTED'
  /** `typ` is missing or not one of the expected types (RFC 8725 §3.11, RFC 9068 §4). */
  | 'ERR_JWT_TYPE'
  /** `kid` is missing or not an opaque key name `^[A-Za-z0-9._-]{1,64}$` (RFC 8725 §3.10). */
  | 'ERR_JWT_KID_INVALID'
  /** No key of ours has this `kid`. */
  | 'ERR_JWT_UNKNOWN_KID'
  /** The signature does not verify under the key. */
  | 'ERR_JWT_SIGNATURE'
  /** A required claim is absent. */
  | 'ERR_JWT_CLAIM_MISSING'
  /** A claim has the wrong type (`exp` that is not a number, `aud` that is not a string or list…). */
  | 'ERR_JWT_CLAIM_INVALID'
  /** `iss` is not exactly the expected issuer (RFC 9068 §4 step 3). */
  | 'ERR_JWT_ISSUER'
  /** `aud` does not contain an expected audience (RFC 9068 §4 step 4, RFC 7519 §4.1.3). */
  | 'ERR_JWT_AUDIENCE'
  /** `exp` has passed, beyond the leeway (RFC 7519 §4.1.4). */
  | 'ERR_JWT_EXPIRED'
  /** `nbf` (or `iat`) lies in the future, beyond the leeway (RFC 7519 §4.1.5). */
  | 'ERR_JWT_NOT_YET_VALID';

export const JWT_ERROR_CODES: readonly JwtErrorCode[] = [
  'ERR_JWT_TOO_LARGE',
  'ERR_JWT_MALFORMED',
  'ERR_JWT_ALG_NOT_ALLOWED',
  'ERR_JWT_FORBIDDEN_HEADER',
  'ERR_JWT_CRIT',
  'ERR_JWT_NESTED',
  'ERR_JWT_TYPE',
  'ERR_JWT_KID_INVALID',
  'ERR_JWT_UNKNOWN_KID',
  'ERR_JWT_SIGNATURE',
  'ERR_JWT_CLAIM_MISSING',
  'ERR_JWT_CLAIM_INVALID',
  'ERR_JWT_ISSUER',
  'ERR_JWT_AUDIENCE',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
];

/** A verification failure: the code to switch on and a sentence for people. */
export interface JwtFailure {
  readonly ok: false;
  readonly code: JwtErrorCode;
  readonly message: string;
}

export const failure = (code: JwtErrorCode, message: string): JwtFailure => ({ ok: false, code, message });
