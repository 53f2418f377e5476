/**
 * The WebCrypto engine, for runtimes without `node:crypto` (Workers, Deno, Bun, browsers): the JWT
 * core's own rules (`jwt/rules.ts`: the compact serialization, the header, the type, the claims —
 * in the same order, with the same codes), and jose's `compactVerify` over CryptoKeys for the one
 * step that needs cryptography. The shared vectors replay through both engines, and a differential
 * test compares them on mutated tokens.
 */
import { base64url, compactVerify, importJWK, importSPKI } from 'jose';
import { failure } from '../jwt/errors.js';
import { type JwtAlgorithm, MIN_HMAC_KEY_BYTES, MIN_RSA_BITS } from '../jwt/keys.js';
import { checkClaims, checkHeaderMembers, checkOptions, checkType, splitCompact } from '../jwt/rules.js';
import { type DecodedObject, parseJsonObject } from '../jwt/syntax.js';
import type { EngineKey, JwtEngine, JwtOutcome, JwtRules } from './engine.js';

export interface WebCryptoKey extends EngineKey {
  readonly key: CryptoKey;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One canonical base64url segment → a JSON object with unique member names, strict UTF-8 (RFC 8725 §3.7). */
function decodeSegment(segment: string): DecodedObject {
  let text: string;
  try {
    text = utf8.decode(base64url.decode(segment));
  } catch {
    return { ok: false, problem: 'is not UTF-8' };
  }
  return parseJsonObject(text);
}

async function verify(
  token: string,
  lookup: (kid: string) => WebCryptoKey | undefined | Promise<WebCryptoKey | undefined>,
  rules: JwtRules,
): Promise<JwtOutcome> {
  const leeway = checkOptions(rules);
  const parts = splitCompact(token, rules.maxTokenLength);
  if (!parts.ok) return parts;
  const decodedHeader = decodeSegment(parts.headerSegment);
  if (!decodedHeader.ok) return failure('ERR_JWT_MALFORMED', `The JWS header ${decodedHeader.problem}`);
  const checked = checkHeaderMembers(decodedHeader.value);
  if (!checked.ok) return checked;
  const typeProblem = checkType(checked.type, rules.types);
  if (typeProblem) return typeProblem;
  const { header } = checked;

  const found = lookup(header.kid);
  const key = found instanceof Promise ? await found : found;
  if (key === undefined) return failure('ERR_JWT_UNKNOWN_KID', 'No key with this "kid" is trusted');
  // RFC 8725 §3.1: the key decides the algorithm; the header must agree with it.
  if (header.alg !== key.alg) {
    return failure('ERR_JWT_ALG_NOT_ALLOWED', `The key "${key.kid}" is only used with ${key.alg}`);
  }
  try {
    // RFC 7515 §5.2 step 8, by WebCrypto, for the key's one algorithm.
    await compactVerify(token, key.key, { algorithms: [key.alg] });
  } catch {
    return failure('ERR_JWT_SIGNATURE', 'The signature does not verify');
  }
  const payload = decodeSegment(parts.payloadSegment);
  if (!payload.ok) return failure('ERR_JWT_MALFORMED', `The JWT claims set ${payload.problem}`);
  const claimsProblem = checkClaims(payload.value, rules, leeway);
  if (claimsProblem) return claimsProblem;
  return { ok: true, header, claims: payload.value };
}

/** Checks once, at import, that a CryptoKey really is of its algorithm's type (RFC 8725 §3.1, docs/security.md #2, #10). */
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
