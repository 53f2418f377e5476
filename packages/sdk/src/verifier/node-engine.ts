/**
 * The Node engine: the shared JWT core (`@gatehouse/sdk/jwt`) on `node:crypto` KeyObjects, the
 * fast path (raw `crypto.verify`, no WebCrypto round trip). jose imports JWKs, off the hot path;
 * each imported key is checked once against its algorithm (curve, RSA size) by the core.
 */
import { createSecretKey, KeyObject } from 'node:crypto';
import { importJWK, importSPKI } from 'jose';
import { keyProblem, type VerificationKey, verifyJwt } from '../jwt/index.js';
import type { JwtAlgorithm } from '../jwt/keys.js';
import type { JwtEngine } from './engine.js';

function checked(kid: string, alg: JwtAlgorithm, key: KeyObject): VerificationKey {
  const problem = keyProblem(alg, key);
  if (problem !== undefined) throw new TypeError(problem);
  return Object.freeze({ kid, alg, key });
}

const toKeyObject = (key: CryptoKey | Uint8Array): KeyObject =>
  key instanceof Uint8Array ? createSecretKey(key) : KeyObject.from(key);

export const nodeEngine: JwtEngine<VerificationKey> = {
  verify: verifyJwt,
  async importPublicJwk({ kid, alg, jwk }) {
    return checked(kid, alg, toKeyObject(await importJWK(jwk, alg, { extractable: true })));
  },
  async importPem(pem, alg, kid) {
    return checked(kid, alg, toKeyObject(await importSPKI(pem, alg, { extractable: true })));
  },
  async importSecret(secret, kid) {
    return checked(kid, 'HS256', createSecretKey(secret));
  },
};

/** A KeyObject given directly in code (Node only), pinned to the algorithm given with it. */
export function keyObjectKey(key: KeyObject, alg: JwtAlgorithm, kid: string): VerificationKey {
  return checked(kid, alg, key);
}
