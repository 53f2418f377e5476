/**
 * Verification of a compact JWS JWT against keys we trust, rigorous per RFC 8725 and fast enough
 * for every request: the signature is checked with `node:crypto` directly (ES256 in JOSE's raw
 * r‖s form, EdDSA, RS256, HS256 by HMAC with a constant-time comparison), and the checks are an
 * ordered list of small steps, each answering a stable error code. The same function serves the
 * Gatehouse server and `@gatehouse/sdk`, and is replayed against shared test vectors and
 * differentially against jose's `jwtVerify` (test/vectors/jwt).
 *
 * @example
 * ```ts
 * import { verifyJwt } from '@gatehouse/sdk/jwt';
 * const result = await verifyJwt(token, (kid) => keys.get(kid), {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   types: ['at+jwt'],
 * });
 * if (!result.ok) return deny(result.code); // e.g. 'ERR_JWT_EXPIRED'
 * console.log(result.claims.sub);
 * ```
 */
import { createHmac, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import { failure, type JwtFailure } from './errors.js';
import { type JwtAlgorithm, keyProblem, type VerificationKey } from './keys.js';
import {
  type CheckedHeader,
  checkClaims,
  checkHeaderMembers,
  checkOptions,
  checkType,
  compactShape,
  DEFAULT_MAX_TOKEN_LENGTH,
  notCanonical,
} from './rules.js';
import { decodeSegment, parseJsonBytes } from './segments.js';

export { DEFAULT_LEEWAY_SECONDS, DEFAULT_MAX_TOKEN_LENGTH, MAX_LEEWAY_SECONDS } from './rules.js';

/** The protected header of a verified token. */
export interface JwtHeader {
  readonly alg: JwtAlgorithm;
  readonly kid: string;
  readonly typ?: string;
  readonly [name: string]: unknown;
}

/** The claims of a verified token; `exp` is always present (it is required). */
export interface JwtClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly sub?: string;
  readonly iat?: number;
  readonly nbf?: number;
  readonly jti?: string;
  readonly [name: string]: unknown;
}

export interface JwtSuccess {
  readonly ok: true;
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
}

export type JwtVerification = JwtSuccess | JwtFailure;

/** Finds the key a `kid` names; undefined when there is none (never fetches on the token's say). */
export type KeyLookup = (kid: string) => VerificationKey | undefined | Promise<VerificationKey | undefined>;

export interface VerifyJwtOptions {
  /** The exact `iss` expected (RFC 9068 §4: compared as a string, no normalisation). */
  readonly issuer: string;
  /** `aud` must contain this audience (or one of these). */
  readonly audience: string | readonly string[];
  /**
   * Accepted `typ` values, compared case-insensitively with an optional `application/` prefix
   * (RFC 7515 §4.1.9), e.g. `['at+jwt']` for RFC 9068 access tokens. Required: each kind of token
   * gets its own type, so a token of one kind is never accepted as another (RFC 8725 §3.11).
   */
  readonly types: readonly string[];
  /** Claims that must be present besides `iss`, `aud` and `exp` (e.g. RFC 9068's `sub`, `jti`). */
  readonly requiredClaims?: readonly string[];
  /** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds: default 30, at most 300. */
  readonly leewaySeconds?: number;
  /** Tokens longer than this are refused before decoding: default 8192 characters. */
  readonly maxTokenLength?: number;
  /** The current time in milliseconds (injectable for tests); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Header checks depend only on the header segment, and a verifier sees the same few headers over
 * and over (one per signing key), so their outcome is memoised in a small bounded map.
 */
const HEADER_CACHE_LIMIT = 256;
const headerCache = new Map<string, CheckedHeader | JwtFailure>();

/** RFC 7515 §4.1: the protected header, checked for everything that does not need a key. */
function checkHeader(segment: string): CheckedHeader | JwtFailure {
  // Decoding checks the encoding; a header that is not canonical is refused with the message of
  // any other such segment.
  const bytes = decodeSegment(segment);
  if (bytes === undefined) return notCanonical();
  const decoded = parseJsonBytes(bytes);
  if (!decoded.ok) return failure('ERR_JWT_MALFORMED', `The JWS header ${decoded.problem}`);
  return checkHeaderMembers(decoded.value);
}

/** The header's checks, from the cache when this header was seen before. */
function checkedHeader(segment: string): CheckedHeader | JwtFailure {
  let checked = headerCache.get(segment);
  if (checked === undefined) {
    checked = checkHeader(segment);
    if (headerCache.size >= HEADER_CACHE_LIMIT) headerCache.clear();
    headerCache.set(segment, checked);
  }
  return checked;
}

const ES256_SIGNATURE_BYTES = 64;
const ED25519_SIGNATURE_BYTES = 64;
const HS256_SIGNATURE_BYTES = 32;

/**
 * HMAC secrets as bytes, exported once per KeyObject: `createHmac` keyed by a Buffer is several
 * times cheaper than keyed by a KeyObject.
 */
const hmacSecrets = new WeakMap<VerificationKey['key'], Buffer>();
const hmacSecretOf = (key: VerificationKey['key']): Buffer => {
  let secret = hmacSecrets.get(key);
  if (secret === undefined) {
    secret = key.export();
    hmacSecrets.set(key, secret);
  }
  return secret;
};

/** RFC 7515 §5.2 step 8, with the algorithm of the key (RFC 7518 §3.2–3.4, RFC 8037 §3.1). */
function signatureVerifies(alg: JwtAlgorithm, key: VerificationKey['key'], data: Buffer, signature: Buffer): boolean {
  if (alg === 'HS256') {
    if (signature.length !== HS256_SIGNATURE_BYTES) return false;
    // A MAC is checked in constant time (docs/security.md: compare secrets with timingSafeEqual).
    return timingSafeEqual(createHmac('sha256', hmacSecretOf(key)).update(data).digest(), signature);
  }
  switch (alg) {
    case 'ES256':
      // JWS carries ECDSA signatures as raw r‖s (RFC 7518 §3.4), not DER.
      return (
        signature.length === ES256_SIGNATURE_BYTES &&
        verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      );
    case 'EdDSA':
      return signature.length === ED25519_SIGNATURE_BYTES && verifySignature(null, data, key, signature);
    case 'RS256':
      return verifySignature('sha256', data, key, signature);
  }
}

/**
 * Verifies a compact JWS JWT. Every rule of RFC 8725 applies, in this order: size cap, three
 * strict base64url segments, header (no `none`, no key-bearing headers, no unknown `crit`, no
 * nesting, `typ`, `kid` syntax), the key named by `kid` and its one algorithm, the signature,
 * then the claims (`iss` exact, `aud` contains ours, `exp` required, `nbf`/`iat` with leeway).
 *
 * Expected failures are returned as `{ ok: false, code, message }`; it throws only for invalid
 * options or when `lookupKey` throws (a broken key source is not a bad token).
 *
 * @example
 * ```ts
 * const result = await verifyJwt(token, (kid) => keysById.get(kid), {
 *   issuer: 'https://auth.example.com', audience: 'orders', types: ['at+jwt'],
 * });
 * if (result.ok) console.log(result.claims.sub);
 * else console.log(result.code); // 'ERR_JWT_SIGNATURE', 'ERR_JWT_EXPIRED', …
 * ```
 */
export async function verifyJwt(
  token: string,
  lookupKey: KeyLookup,
  options: VerifyJwtOptions,
): Promise<JwtVerification> {
  return verifyJwtDirect(token, lookupKey, options);
}

/**
 * `verifyJwt` without the promise when none is needed: synchronous whenever `lookupKey` answers
 * synchronously (keys held in memory), a promise only when it returns one. For hot paths that
 * verify on every request and should not pay a microtask per token; same checks, same results.
 *
 * @example
 * ```ts
 * const result = verifyJwtDirect(token, (kid) => keysById.get(kid), options);
 * const settled = result instanceof Promise ? await result : result;
 * ```
 */
export function verifyJwtDirect(
  token: string,
  lookupKey: KeyLookup,
  options: VerifyJwtOptions,
): JwtVerification | Promise<JwtVerification> {
  const leeway = checkOptions(options);
  const shape = compactShape(token, options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH);
  if (!shape.ok) return shape;
  const { firstDot, lastDot } = shape;
  // The payload and signature are decoded now, which checks their encoding, so that a token with
  // a segment that is not canonical base64url is refused before anything else, as splitCompact
  // does for the WebCrypto engine; the header is checked in checkedHeader (a header found in the
  // cache passed that check when it was first seen).
  const payload = decodeSegment(token, firstDot + 1, lastDot);
  const signature = decodeSegment(token, lastDot + 1);
  if (payload === undefined || signature === undefined) return notCanonical();
  // RFC 7515 §5.2: the signing input is the ASCII of `header.payload`, all base64url (or the header
  // is refused below), so Latin-1 is that ASCII.
  const parts: DecodedParts = { signingInput: Buffer.from(token.slice(0, lastDot), 'latin1'), payload, signature };
  const checked = checkedHeader(token.slice(0, firstDot));
  if (!checked.ok) return checked;
  const typeProblem = checkType(checked.type, options.types);
  if (typeProblem) return typeProblem;
  const found = lookupKey(checked.header.kid);
  return found instanceof Promise
    ? found.then((key) => verifyWithKey(parts, checked.header, key, options, leeway))
    : verifyWithKey(parts, checked.header, found, options, leeway);
}

/** A token's segments once their encoding is known to be canonical. */
interface DecodedParts {
  readonly signingInput: Buffer;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

/** The steps after the key lookup: algorithm agreement, signature, claims. */
function verifyWithKey(
  parts: DecodedParts,
  header: JwtHeader,
  key: VerificationKey | undefined,
  options: VerifyJwtOptions,
  leeway: number,
): JwtVerification {
  if (key === undefined) return failure('ERR_JWT_UNKNOWN_KID', 'No key with this "kid" is trusted');
  // RFC 8725 §3.1: the key decides the algorithm; the header must agree with it.
  if (header.alg !== key.alg) {
    return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is only used with ${key.alg}`);
  }
  const problem = keyProblem(key.alg, key.key);
  if (problem !== undefined) return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is unusable: ${problem}`);

  if (!signatureVerifies(key.alg, key.key, parts.signingInput, parts.signature)) {
    return failure('ERR_JWT_SIGNATURE', 'The signature does not verify');
  }

  const payload = parseJsonBytes(parts.payload);
  if (!payload.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${payload.problem}`);
  const claimsProblem = checkClaims(payload.value, options, leeway);
  if (claimsProblem) return claimsProblem;
  return { ok: true, header, claims: payload.value as JwtClaims };
}
