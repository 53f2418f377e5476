/**
 * The WebCrypto engine, for runtimes without `node:crypto` (Workers, Deno, Bun, browsers): jose's
 * `jwtVerify` over CryptoKeys, behind the same rules and error codes as the shared core. jose
 * checks the signature and the registered claims; this module adds, in the core's order, what jose
 * deliberately leaves out and the core refuses (each marked `joseAccepts` in the shared vectors):
 * a size cap before decoding, canonical base64url, repeated member names, strict UTF-8, the
 * key-bearing headers `jku`/`x5u`/`jwk`/`x5c`, any `crit`, nested `cty: JWT`, a list of `typ`s,
 * the kid syntax, and `iat` in the future. The shared vectors replay through both engines.
 */
import { base64url, errors, importJWK, importSPKI, type JWTVerifyOptions, jwtVerify } from 'jose';
import { failure, type JwtErrorCode } from '../jwt/errors.js';
import { type JwtAlgorithm, KID_PATTERN, MIN_HMAC_KEY_BYTES, MIN_RSA_BITS } from '../jwt/keys.js';
import { isCanonicalBase64url, topLevelMemberCount } from '../jwt/syntax.js';
import type { EngineKey, JwtEngine, JwtOutcome, JwtRules } from './engine.js';

export interface WebCryptoKey extends EngineKey {
  readonly key: CryptoKey;
}

const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const normaliseType = (type: string): string => {
  const lower = type.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
};

type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

/** One base64url segment → a JSON object with unique member names, strict UTF-8 (RFC 8725 §3.7). */
function decodeSegment(segment: string): Decoded {
  let text: string;
  try {
    text = utf8.decode(base64url.decode(segment));
  } catch {
    return { ok: false, problem: 'is not UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'is not a JSON object' };
  }
  // RFC 7515 §4, RFC 7519 §4: member names MUST be unique.
  if (topLevelMemberCount(text) !== Object.keys(value).length) return { ok: false, problem: 'repeats a member name' };
  return { ok: true, value: value as Record<string, unknown> };
}

/** The header steps of the core, in its order (RFC 7515 §4.1, RFC 8725 §3.1, §3.10, 8725bis §3.14). */
function checkHeader(header: Record<string, unknown>): JwtOutcome | undefined {
  const { alg, kid, typ, crit, cty } = header;
  if (typeof alg !== 'string') return failure('ERR_JWT_MALFORMED', 'The JWS header has no "alg"');
  if (alg.toLowerCase() === 'none')
    return failure('ERR_JWT_ALG_NOT_ALLOWED', 'Unsecured JWTs (alg "none") are refused');
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) {
      return failure('ERR_JWT_FORBIDDEN_HEADER', `The "${name}" header is refused: keys never come from the token`);
    }
  }
  if (crit !== undefined) return failure('ERR_JWT_CRIT', 'No critical header extension is supported');
  if (cty !== undefined) {
    if (typeof cty !== 'string') return failure('ERR_JWT_MALFORMED', 'The "cty" header must be a string');
    if (normaliseType(cty) === 'jwt') return failure('ERR_JWT_NESTED', 'Nested JWTs (cty "JWT") are refused');
  }
  if (typ !== undefined && typeof typ !== 'string') return failure('ERR_JWT_TYPE', 'The "typ" header must be a string');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    return failure('ERR_JWT_KID_INVALID', 'The "kid" header must name a key: 1–64 characters of A–Z a–z 0–9 . _ -');
  }
  return undefined;
}

/** jose's claim failures, in the core's vocabulary. */
function fromJoseError(error: unknown, claims: Record<string, unknown>): JwtOutcome {
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return failure('ERR_JWT_SIGNATURE', 'The signature does not verify');
  }
  if (error instanceof errors.JWTExpired) return failure('ERR_JWT_EXPIRED', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return failure('ERR_JWT_CLAIM_MISSING', `The token has no "${error.claim}" claim`);
    const byClaim: Record<string, JwtErrorCode> = {
      iss: 'ERR_JWT_ISSUER',
      aud: 'ERR_JWT_AUDIENCE',
      nbf: 'ERR_JWT_NOT_YET_VALID',
    };
    const code = error.reason === 'check_failed' ? byClaim[error.claim] : undefined;
    if (code === 'ERR_JWT_AUDIENCE' && !isAudienceShape(claims.aud)) {
      return failure('ERR_JWT_CLAIM_INVALID', 'The "aud" claim must be a string or a list of strings');
    }
    if (code === 'ERR_JWT_ISSUER' && typeof claims.iss !== 'string') {
      return failure('ERR_JWT_ISSUER', 'The token was issued by another issuer');
    }
    return code
      ? failure(code, error.message)
      : failure('ERR_JWT_CLAIM_INVALID', `The "${error.claim}" claim is invalid`);
  }
  // Anything else (an unusable key, a jose-internal refusal) denies: fail closed.
  return failure('ERR_JWT_SIGNATURE', 'The signature does not verify');
}

const isAudienceShape = (aud: unknown) =>
  typeof aud === 'string' || (Array.isArray(aud) && aud.every((entry) => typeof entry === 'string'));

async function verify(
  token: string,
  lookup: (kid: string) => WebCryptoKey | undefined | Promise<WebCryptoKey | undefined>,
  rules: JwtRules,
): Promise<JwtOutcome> {
  if (typeof token !== 'string') return failure('ERR_JWT_MALFORMED', 'The token must be a string');
  // RFC 8725bis §3.13: bound the work before decoding anything.
  if (token.length > rules.maxTokenLength) return failure('ERR_JWT_TOO_LARGE', 'The token is longer than allowed');
  const segments = token.split('.');
  if (segments.length !== 3) return failure('ERR_JWT_MALFORMED', 'A JWT has exactly three dot-separated segments');
  const [headerSegment, payloadSegment] = segments as [string, string, string];
  if (headerSegment.length === 0 || payloadSegment.length === 0 || !segments.every(isCanonicalBase64url)) {
    return failure('ERR_JWT_MALFORMED', 'Each segment must be unpadded, canonical base64url');
  }
  const decodedHeader = decodeSegment(headerSegment);
  if (!decodedHeader.ok) return failure('ERR_JWT_MALFORMED', `The JWS header ${decodedHeader.problem}`);
  const header = decodedHeader.value;
  const headerProblem = checkHeader(header);
  if (headerProblem) return headerProblem;
  // RFC 8725 §3.11, RFC 9068 §4 step 1.
  const type = typeof header.typ === 'string' ? normaliseType(header.typ) : undefined;
  if (type === undefined || !rules.types.some((accepted) => normaliseType(accepted) === type)) {
    return failure('ERR_JWT_TYPE', `The token type must be ${rules.types.join(' or ')}`);
  }
  const found = lookup(header.kid as string);
  const key = found instanceof Promise ? await found : found;
  if (key === undefined) return failure('ERR_JWT_UNKNOWN_KID', 'No key with this "kid" is trusted');
  // RFC 8725 §3.1: the key decides the algorithm; the header must agree with it.
  if (header.alg !== key.alg)
    return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is only used with ${key.alg}`);

  const payload = decodeSegment(payloadSegment);
  const claims = payload.ok ? payload.value : {};
  const options: JWTVerifyOptions = {
    algorithms: [key.alg],
    issuer: rules.issuer,
    audience: typeof rules.audience === 'string' ? rules.audience : [...rules.audience],
    clockTolerance: rules.leewaySeconds,
    currentDate: new Date(rules.now()),
    requiredClaims: ['iss', 'aud', 'exp', ...rules.requiredClaims],
  };
  try {
    await jwtVerify(token, key.key, options);
  } catch (error) {
    // The core's order: the signature first, then the claims set's syntax, then the claims.
    if (error instanceof errors.JWSSignatureVerificationFailed) return fromJoseError(error, claims);
    if (!payload.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${payload.problem}`);
    return fromJoseError(error, claims);
  }
  if (!payload.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${payload.problem}`);
  // jose checks iat only with maxTokenAge; a token cannot have been issued in the future (RFC 8725 §3.8).
  const now = Math.floor(rules.now() / 1000);
  if (typeof claims.iat === 'number' && claims.iat > now + rules.leewaySeconds) {
    return failure('ERR_JWT_NOT_YET_VALID', 'The token was issued in the future');
  }
  return { ok: true, header: Object.freeze(header), claims };
}

/** Checks once, at import, that a CryptoKey really is of its algorithm's type (RFC 8725 §3.1, SECURITY.md #2, #10). */
export function cryptoKeyKey(kid: string, alg: JwtAlgorithm, key: CryptoKey | Uint8Array): WebCryptoKey {
  if (key instanceof Uint8Array) throw new TypeError(`${alg} needs an asymmetric public key`);
  const algorithm = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  const fits =
    alg === 'ES256'
      ? algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256'
      : alg === 'EdDSA'
        ? algorithm.name === 'Ed25519' || (algorithm.name === 'EdDSA' && algorithm.namedCurve === 'Ed25519')
        : alg === 'RS256'
          ? algorithm.name === 'RSASSA-PKCS1-v1_5' && (algorithm.modulusLength ?? 0) >= MIN_RSA_BITS
          : algorithm.name === 'HMAC';
  if (!fits || (alg !== 'HS256' && key.type !== 'public')) throw new TypeError(`the key is not a usable ${alg} key`);
  return Object.freeze({ kid, alg, key });
}

export const webCryptoEngine: JwtEngine<WebCryptoKey> = {
  verify,
  async importPublicJwk({ kid, alg, jwk }) {
    return cryptoKeyKey(kid, alg, await importJWK(jwk, alg));
  },
  async importPem(pem, alg, kid) {
    return cryptoKeyKey(kid, alg, await importSPKI(pem, alg));
  },
  async importSecret(secret, kid) {
    if (secret.byteLength < MIN_HMAC_KEY_BYTES) throw new TypeError('HS256 secrets must be at least 32 bytes');
    const key = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    return cryptoKeyKey(kid, 'HS256', key);
  },
};
