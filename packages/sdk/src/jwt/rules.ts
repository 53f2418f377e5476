/**
 * The rules of JWT verification that need no cryptography, in the order `verifyJwt` applies them:
 * the compact serialization, the protected header, the token type, the claims. Runtime-neutral (no
 * `node:` module), so that the WebCrypto verifier of `@gatehouse/sdk/fetch` applies exactly the
 * same rules and answers the same codes; only the signature check differs between runtimes.
 */
import { failure, type JwtFailure } from './errors.js';
import { KID_PATTERN } from './keys.js';
import { isCanonicalBase64url } from './syntax.js';
import type { JwtHeader, VerifyJwtOptions } from './verify.js';

export const DEFAULT_LEEWAY_SECONDS = 30;
export const MAX_LEEWAY_SECONDS = 300;
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/** Header parameters that would let the token choose its own key: never honoured (RFC 8725 §3.10). */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

export interface CheckedHeader {
  readonly ok: true;
  readonly header: JwtHeader;
  /** `typ` normalised: lower case, without `application/`; undefined when absent. */
  readonly type: string | undefined;
}

export const normaliseType = (type: string): string => {
  const lower = type.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
};

/** The compact serialization's parts, or why the token is not one. */
export type CompactParts =
  | {
      readonly ok: true;
      readonly headerSegment: string;
      readonly payloadSegment: string;
      readonly signatureSegment: string;
      /** `header.payload`, the JWS signing input (RFC 7515 §5.2). */
      readonly signingInput: string;
    }
  | JwtFailure;

/** Why a token is refused when one of its segments is not canonical base64url. */
export const notCanonical = (): JwtFailure =>
  failure('ERR_JWT_MALFORMED', 'Each segment must be unpadded, canonical base64url');

/** Where a compact serialization's two dots are, or why the token is not one. */
export type CompactShape =
  | { readonly ok: true; readonly token: string; readonly firstDot: number; readonly lastDot: number }
  | JwtFailure;

/**
 * Size cap, then exactly three dot-separated segments, the payload not empty; the segments'
 * encoding is not looked at (see `splitCompact`).
 */
export function compactShape(token: unknown, maxTokenLength: number): CompactShape {
  // RFC 8725bis §3.13: bound the work before decoding anything.
  if (typeof token !== 'string') return failure('ERR_JWT_MALFORMED', 'The token must be a string');
  if (token.length > maxTokenLength) {
    return failure('ERR_JWT_TOO_LARGE', 'The token is longer than allowed');
  }
  // RFC 7515 §7.1, RFC 8725 §3.3: compact serialization only — exactly three segments (a JWE has
  // five; the JSON serialization has none).
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) {
    return failure('ERR_JWT_MALFORMED', 'A JWT has exactly three dot-separated segments');
  }
  if (lastDot === firstDot + 1) return notCanonical(); // an empty payload
  return { ok: true, token, firstDot, lastDot };
}

/**
 * Size cap, then exactly three canonical base64url segments. (The `node:crypto` engine checks the
 * encoding as it decodes instead, before anything else, so that both engines refuse in the same
 * order.)
 */
export function splitCompact(token: unknown, maxTokenLength: number): CompactParts {
  const shape = compactShape(token, maxTokenLength);
  if (!shape.ok) return shape;
  const { firstDot, lastDot } = shape;
  const parts = {
    ok: true as const,
    headerSegment: shape.token.slice(0, firstDot),
    payloadSegment: shape.token.slice(firstDot + 1, lastDot),
    signatureSegment: shape.token.slice(lastDot + 1),
    signingInput: shape.token.slice(0, lastDot),
  };
  if (
    !isCanonicalBase64url(parts.headerSegment) ||
    !isCanonicalBase64url(parts.payloadSegment) ||
    !isCanonicalBase64url(parts.signatureSegment)
  ) {
    return notCanonical();
  }
  return parts;
}

/** RFC 7515 §4.1: the decoded protected header, checked for everything that does not need a key. */
export function checkHeaderMembers(header: Record<string, unknown>): CheckedHeader | JwtFailure {
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

/** RFC 8725 §3.11, RFC 9068 §4 step 1: explicit typing keeps token kinds apart. */
export function checkType(type: string | undefined, types: readonly string[]): JwtFailure | undefined {
  if (type === undefined || !types.some((accepted) => normaliseType(accepted) === type)) {
    return failure('ERR_JWT_TYPE', `The token type must be ${types.join(' or ')}`);
  }
  return undefined;
}

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** RFC 7519 §4.1 and RFC 9068 §4: the claims, once the signature has vouched for them. */
export function checkClaims(
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

export function checkOptions(options: VerifyJwtOptions): number {
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!(leeway >= 0 && leeway <= MAX_LEEWAY_SECONDS)) {
    // docs/security.md #8: leeway of a few minutes at most. A programming error, so it throws.
    throw new RangeError(`leewaySeconds must be from 0 to ${MAX_LEEWAY_SECONDS}`);
  }
  if (typeof options.issuer !== 'string' || options.issuer.length === 0) throw new TypeError('issuer is required');
  if (options.types.length === 0) throw new TypeError('types must name at least one token type');
  return leeway;
}
