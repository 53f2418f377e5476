/**
 * What a verifier needs from a cryptographic runtime: verify a compact JWS JWT under the rules of
 * the JWT core, and import keys once, off the hot path. Two engines implement it: Node's (the
 * shared core `@gatehouse/sdk/jwt` over `node:crypto` KeyObjects) and WebCrypto's (jose over
 * CryptoKeys, for `@gatehouse/sdk/fetch` where no `node:` module exists). Both are replayed
 * against the same shared vectors and must answer the same codes.
 */
import type { JwtErrorCode } from '../jwt/errors.js';
import type { JwtAlgorithm } from '../jwt/keys.js';
import type { PublicAlgorithm, PublishedKey } from '../keys/jwks.js';

/** A key pinned to one algorithm, in the engine's own key type. */
export interface EngineKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
}

export interface JwtRules {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly types: readonly string[];
  readonly requiredClaims: readonly string[];
  readonly leewaySeconds: number;
  readonly maxTokenLength: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export type JwtOutcome =
  | { readonly ok: true; readonly header: Readonly<Record<string, unknown>>; readonly claims: Record<string, unknown> }
  | { readonly ok: false; readonly code: JwtErrorCode; readonly message: string };

export type EngineKeyLookup<K> = (kid: string) => K | undefined | Promise<K | undefined>;

export interface JwtEngine<K extends EngineKey> {
  /** Verifies `token`; expected failures are values, a throwing `lookup` rejects. */
  verify(token: string, lookup: EngineKeyLookup<K>, rules: JwtRules): Promise<JwtOutcome>;
  /** A vetted public JWK from a JWKS (or the `keys` option). */
  importPublicJwk(key: PublishedKey): Promise<K>;
  /** A PEM (SPKI) public key from the `keys` option. */
  importPem(pem: string, alg: PublicAlgorithm, kid: string): Promise<K>;
  /** An HS256 shared secret (at least 32 bytes, checked by the caller). */
  importSecret(secret: Uint8Array, kid: string): Promise<K>;
}
