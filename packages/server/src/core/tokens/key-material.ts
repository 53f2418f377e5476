/**
 * Key material, all through jose (docs/security.md: no hand-written JOSE): generation, JWK export and
 * import, RFC 7638 thumbprints as `kid`s, and the public-members-only view the JWKS publishes.
 */
import { createHash, createPublicKey, createSecretKey } from 'node:crypto';
import type { VerificationKey } from '@gatehouse/sdk/jwt';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type SignJWT } from 'jose';
import type { SealedBox } from '../secrets/sealed-box.js';
import { hs256SecretBytes } from './hmac-secret.js';
import type { AsymmetricAlgorithm, SigningKeyRecord } from './signing-keys.js';

/** The members of a public JWK per key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2); nothing else is published. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  RSA: ['kty', 'n', 'e'],
};

/** A JWK reduced to its public members plus kid/alg/use; throws for key types we never publish. */
export function publicJwkOf(jwk: JWK, kid: string, alg: string): JWK {
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''];
  if (!members) throw new Error(`refusing to publish a ${jwk.kty} key`);
  const out: Record<string, unknown> = {};
  const source = jwk as Record<string, unknown>;
  for (const name of members) if (source[name] !== undefined) out[name] = source[name];
  return { ...out, kid, alg, use: 'sig' } as JWK;
}

export const sealPurpose = (kid: string): string => `signing-key:${kid}`;

export interface GeneratedKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  /** The private JWK as JSON text, to be sealed at once. */
  readonly privateJwkJson: string;
}

/** A new key pair (RS256: 2048-bit modulus, docs/security.md #10); its kid is the RFC 7638 thumbprint. */
export async function generateSigningKey(alg: AsymmetricAlgorithm): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, publicJwk: publicJwkOf(exported, kid, alg), privateJwkJson: JSON.stringify(privateJwk) };
}

/** What signs: the private key of the active key (or the HS256 secret). */
export interface Signer {
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm | 'HS256';
  /** What jose's `SignJWT.sign` takes: a CryptoKey, a KeyObject, or HMAC secret bytes. */
  readonly key: Parameters<SignJWT['sign']>[0];
}

export async function openSigner(record: SigningKeyRecord, box: SealedBox): Promise<Signer> {
  if (record.privateJwkSealed === null) throw new Error(`signing key ${record.kid} has no private part`);
  const jwk = JSON.parse(box.open(record.privateJwkSealed, sealPurpose(record.kid)).toString('utf8')) as JWK;
  const key = await importJWK(jwk, record.alg);
  return { kid: record.kid, alg: record.alg, key };
}

export function verificationKeyOf(record: SigningKeyRecord): VerificationKey {
  return { kid: record.kid, alg: record.alg, key: createPublicKey({ key: record.publicJwk as never, format: 'jwk' }) };
}

/**
 * The HS256 key: its kid is derived from the secret (a truncated SHA-256 of ≥ 256 random bits,
 * which reveals nothing), so every instance and every service sharing the secret agree on it.
 */
export function hs256Key(text: string): { readonly verification: VerificationKey; readonly signer: Signer } {
  const bytes = hs256SecretBytes(text);
  const kid = `hs256-${createHash('sha256').update(bytes).digest('base64url').slice(0, 16)}`;
  return {
    verification: { kid, alg: 'HS256', key: createSecretKey(bytes) },
    signer: { kid, alg: 'HS256', key: new Uint8Array(bytes) },
  };
}
