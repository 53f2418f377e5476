/**
 * `@gatehouse/sdk/jwt`: the compact-JWS verification core shared by the Gatehouse server and the
 * SDK. Node only (it uses `node:crypto` KeyObjects on the hot path).
 */
export { type DecodedJwt, decodeJwtUnverified } from './decode.js';
export { JWT_ERROR_CODES, type JwtErrorCode, type JwtFailure } from './errors.js';
export {
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  KID_PATTERN,
  keyProblem,
  MIN_HMAC_KEY_BYTES,
  MIN_RSA_BITS,
  type VerificationKey,
} from './keys.js';
export { type CachedTokenEntry, VerifiedTokenCache } from './verified-token-cache.js';
export {
  DEFAULT_LEEWAY_SECONDS,
  DEFAULT_MAX_TOKEN_LENGTH,
  type JwtClaims,
  type JwtHeader,
  type JwtSuccess,
  type JwtVerification,
  type KeyLookup,
  MAX_LEEWAY_SECONDS,
  type VerifyJwtOptions,
  verifyJwt,
  verifyJwtDirect,
} from './verify.js';
