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
import { type JwtAlgorithm, KID_PATTERN, keyProblem, type VerificationKey } from './keys.js';
import { decodeJsonSegment, isCanonicalBase64url } from './segments.js';

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

export const DEFAULT_LEEWAY_SECONDS = 30;
export const MAX_LEEWAY_SECONDS = 300;
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/** Header parameters that would let the token choose its own key: never honoured (RFC 8725 §3.10). */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

interface CheckedHeader {
  readonly ok: true;
  readonly header: JwtHeader;
  /** `typ` normalised: lower case, without `application/`; undefined when absent. */
  readonly type: string | undefined;
}

/**
 * Header checks depend only on the header segment, and a verifier sees the same few headers over
 * and over (one per signing key), so their outcome is memoised in a small bounded map.
 */
const HEADER_CACHE_LIMIT = 256;
const headerCache = new Map<string, CheckedHeader | JwtFailure>();

const normaliseType = (type: string): string => {
  const lower = type.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
};

/** RFC 7515 §4.1: the protected header, checked for everything that does not need a key. */
function checkHeader(segment: string): CheckedHeader | JwtFailure {
  const decoded = decodeJsonSegment(segment);
  if (!decoded.ok) return failure('ERR_JWT_MALFORMED', `The JWS header ${decoded.problem}`);
  const header = decoded.value;
  const { alg, kid, typ, crit, cty } = header;
  if (typeof alg !== 'string') return failure('ERR_JWT_MALFORMED', 'The JWS header has no "alg"');
  // RFC 8725 §3.1–3.2, 8725bis §2.10: `none` is never accepted, however it is spelled.
  if (alg.toLowerCase() === 'none')
    return failure('ERR_JWT_ALG_NOT_ALLOWED', 'Unsecured JWTs (alg "none") are refused');
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) {
      return failure('ERR_JWT_FORBIDDEN_HEADER', `The "${name}" header is refused: keys never come from the token`);
    }
  }
  // RFC 7515 §4.1.11: crit, when present, is a non-empty list; we understand no extension, so
  // any entry is one we "do not understand and/or process" and the JWS MUST be rejected.
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0 || !crit.every((entry) => typeof entry === 'string' && entry)) {
      return failure('ERR_JWT_CRIT', 'The "crit" header must be a non-empty list of names');
    }
    return failure('ERR_JWT_CRIT', `The critical extension "${String(crit[0])}" is not supported`);
  }
  // RFC 8725bis §3.14, RFC 7519 §5.2: nested JWTs are refused.
  if (cty !== undefined) {
    if (typeof cty !== 'string') return failure('ERR_JWT_MALFORMED', 'The "cty" header must be a string');
    if (normaliseType(cty) === 'jwt') return failure('ERR_JWT_NESTED', 'Nested JWTs (cty "JWT") are refused');
  }
  if (typ !== undefined && typeof typ !== 'string') return failure('ERR_JWT_TYPE', 'The "typ" header must be a string');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    return failure('ERR_JWT_KID_INVALID', 'The "kid" header must name a key: 1–64 characters of A–Z a–z 0–9 . _ -');
  }
  Object.freeze(header);
  return { ok: true, header: header as JwtHeader, type: typeof typ === 'string' ? normaliseType(typ) : undefined };
}

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
function signatureVerifies(alg: JwtAlgorithm, key: VerificationKey['key'], input: string, signature: Buffer): boolean {
  if (alg === 'HS256') {
    if (signature.length !== HS256_SIGNATURE_BYTES) return false;
    // A MAC is checked in constant time (SECURITY.md: compare secrets with timingSafeEqual).
    return timingSafeEqual(createHmac('sha256', hmacSecretOf(key)).update(input, 'latin1').digest(), signature);
  }
  const data = Buffer.from(input, 'latin1');
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

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** RFC 7519 §4.1 and RFC 9068 §4: the claims, once the signature has vouched for them. */
function checkClaims(
  claims: Record<string, unknown>,
  options: VerifyJwtOptions,
  leeway: number,
): JwtFailure | undefined {
  const { iss, aud, exp, nbf, iat } = claims;
  if (iss === undefined) return failure('ERR_JWT_CLAIM_MISSING', 'The token has no "iss" claim');
  // RFC 9068 §4 step 3: iss MUST exactly match the issuer identifier.
  if (iss !== options.issuer) return failure('ERR_JWT_ISSUER', 'The token was issued by another issuer');
  if (aud === undefined) return failure('ERR_JWT_CLAIM_MISSING', 'The token has no "aud" claim');
  if (!audienceMatches(aud, options.audience)) {
    if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((entry) => typeof entry === 'string'))) {
      return failure('ERR_JWT_CLAIM_INVALID', 'The "aud" claim must be a string or a list of strings');
    }
    return failure('ERR_JWT_AUDIENCE', 'The token is not meant for this audience');
  }
  if (exp === undefined) return failure('ERR_JWT_CLAIM_MISSING', 'The token has no "exp" claim');
  if (!isNumericDate(exp)) return failure('ERR_JWT_CLAIM_INVALID', 'The "exp" claim must be a number');
  if (nbf !== undefined && !isNumericDate(nbf))
    return failure('ERR_JWT_CLAIM_INVALID', 'The "nbf" claim must be a number');
  if (iat !== undefined && !isNumericDate(iat))
    return failure('ERR_JWT_CLAIM_INVALID', 'The "iat" claim must be a number');
  if (options.requiredClaims) {
    for (const name of options.requiredClaims) {
      if (claims[name] === undefined) return failure('ERR_JWT_CLAIM_MISSING', `The token has no "${name}" claim`);
    }
  }
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  // RFC 7519 §4.1.4: the current time MUST be before exp (with a small leeway).
  if (exp <= now - leeway) return failure('ERR_JWT_EXPIRED', 'The token has expired');
  // RFC 7519 §4.1.5: the current time MUST be at or after nbf.
  if (nbf !== undefined && nbf > now + leeway) return failure('ERR_JWT_NOT_YET_VALID', 'The token is not valid yet');
  // A token cannot have been issued in the future (RFC 8725 §3.8: validate time claims).
  if (iat !== undefined && iat > now + leeway)
    return failure('ERR_JWT_NOT_YET_VALID', 'The token was issued in the future');
  return undefined;
}

function audienceMatches(aud: unknown, expected: string | readonly string[]): boolean {
  if (typeof expected === 'string') {
    return typeof aud === 'string' ? aud === expected : Array.isArray(aud) && aud.includes(expected);
  }
  if (typeof aud === 'string') return expected.includes(aud);
  return Array.isArray(aud) && aud.some((entry) => typeof entry === 'string' && expected.includes(entry));
}

function checkOptions(options: VerifyJwtOptions): number {
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!(leeway >= 0 && leeway <= MAX_LEEWAY_SECONDS)) {
    // SECURITY.md #8: leeway of a few minutes at most. A programming error, so it throws.
    throw new RangeError(`leewaySeconds must be from 0 to ${MAX_LEEWAY_SECONDS}`);
  }
  if (typeof options.issuer !== 'string' || options.issuer.length === 0) throw new TypeError('issuer is required');
  if (options.types.length === 0) throw new TypeError('types must name at least one token type');
  return leeway;
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
  const leeway = checkOptions(options);
  // RFC 8725bis §3.13: bound the work before decoding anything.
  if (typeof token !== 'string') return failure('ERR_JWT_MALFORMED', 'The token must be a string');
  if (token.length > (options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH)) {
    return failure('ERR_JWT_TOO_LARGE', 'The token is longer than allowed');
  }
  // RFC 7515 §7.1, RFC 8725 §3.3: compact serialization only — exactly three segments (a JWE has
  // five; the JSON serialization has none).
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) {
    return failure('ERR_JWT_MALFORMED', 'A JWT has exactly three dot-separated segments');
  }
  const headerSegment = token.slice(0, firstDot);
  const payloadSegment = token.slice(firstDot + 1, lastDot);
  const signatureSegment = token.slice(lastDot + 1);
  if (
    payloadSegment.length === 0 ||
    !isCanonicalBase64url(headerSegment) ||
    !isCanonicalBase64url(payloadSegment) ||
    !isCanonicalBase64url(signatureSegment)
  ) {
    return failure('ERR_JWT_MALFORMED', 'Each segment must be unpadded, canonical base64url');
  }

  const checked = checkedHeader(headerSegment);
  if (!checked.ok) return checked;
  const { header } = checked;
  // RFC 8725 §3.11, RFC 9068 §4 step 1: explicit typing keeps token kinds apart.
  if (checked.type === undefined || !options.types.some((type) => normaliseType(type) === checked.type)) {
    return failure('ERR_JWT_TYPE', `The token type must be ${options.types.join(' or ')}`);
  }

  const found = lookupKey(header.kid);
  const key = found instanceof Promise ? await found : found;
  if (key === undefined) return failure('ERR_JWT_UNKNOWN_KID', 'No key with this "kid" is trusted');
  // RFC 8725 §3.1: the key decides the algorithm; the header must agree with it.
  if (header.alg !== key.alg) {
    return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is only used with ${key.alg}`);
  }
  const problem = keyProblem(key.alg, key.key);
  if (problem !== undefined) return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is unusable: ${problem}`);

  const signature = Buffer.from(signatureSegment, 'base64url');
  if (!signatureVerifies(key.alg, key.key, token.slice(0, lastDot), signature)) {
    return failure('ERR_JWT_SIGNATURE', 'The signature does not verify');
  }

  const payload = decodeJsonSegment(payloadSegment);
  if (!payload.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${payload.problem}`);
  const claimsProblem = checkClaims(payload.value, options, leeway);
  if (claimsProblem) return claimsProblem;
  return { ok: true, header, claims: payload.value as JwtClaims };
}
