/**
 * Verification keys: a `kid`, the one algorithm the key may be used with, and a Node `KeyObject`.
 * The key decides the algorithm, never the token (RFC 8725 §3.1, docs/security.md #1), and a key is
 * checked once to really be of its algorithm's type (an HMAC "secret" that is a public key is the
 * algorithm-confusion attack of RFC 8725 §2.1, docs/security.md #2).
 */
import type { KeyObject } from 'node:crypto';

/** The algorithms Gatehouse signs and verifies with (RFC 7518 §3.1, RFC 8037 §3.1). */
export type JwtAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'HS256';

export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];

/** A key the verifier trusts, pinned to one algorithm. */
export interface VerificationKey {
  /** Opaque key id, `^[A-Za-z0-9._-]{1,64}$`. */
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  /** A public key (ES256: P-256; EdDSA: Ed25519; RS256: RSA ≥ 2048 bits) or, for HS256, a secret key. */
  readonly key: KeyObject;
}

/** `kid` as an opaque map key: never a path, SQL or shell input (RFC 8725 §3.10, docs/security.md #4). */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Minimum HMAC key size: 256 bits (RFC 7518 §3.2, RFC 8725 §3.5, docs/security.md #10). */
export const MIN_HMAC_KEY_BYTES = 32;
/** Minimum RSA modulus (RFC 7518 §3.3, docs/security.md #10). */
export const MIN_RSA_BITS = 2048;

const checked = new WeakMap<KeyObject, string>();

/**
 * Why `key` cannot be used with `alg`, or undefined when it can. The answer is cached per
 * KeyObject, so the hot path pays one WeakMap lookup.
 *
 * @example
 * ```ts
 * keyProblem('HS256', createPublicKey(pem)); // → 'HS256 needs a secret key; an asymmetric key is never an HMAC secret'
 * ```
 */
export function keyProblem(alg: JwtAlgorithm, key: KeyObject): string | undefined {
  const cached = checked.get(key);
  if (cached !== undefined) return cached === alg ? undefined : `the key is not an ${alg} key`;
  const problem = inspect(alg, key);
  if (problem === undefined) checked.set(key, alg);
  return problem;
}

function inspect(alg: JwtAlgorithm, key: KeyObject): string | undefined {
  if (alg === 'HS256') {
    if (key.type !== 'secret') return 'HS256 needs a secret key; an asymmetric key is never an HMAC secret';
    if ((key.symmetricKeySize ?? 0) < MIN_HMAC_KEY_BYTES) return 'HS256 secrets must be at least 32 bytes';
    return undefined;
  }
  if (key.type !== 'public') return `${alg} verification needs a public key`;
  const details = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1'
        ? undefined
        : 'ES256 needs a P-256 public key';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519' ? undefined : 'EdDSA needs an Ed25519 public key';
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS
        ? undefined
        : 'RS256 needs an RSA public key of at least 2048 bits';
  }
}
