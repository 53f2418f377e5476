/**
 * `@gatehouse/sdk/fetch` — the verifier and middleware for runtimes with only WebCrypto
 * (Cloudflare Workers, Deno, Bun, browsers, edge functions). Nothing here loads a `node:` module:
 * JWTs are verified by jose over CryptoKeys, under the same rules and error codes as the Node
 * entry's core (both replay the shared vectors).
 */
import type { CryptoKey, JWK } from 'jose';
import type { JwtAlgorithm } from './jwt/keys.js';
import { sha256Hex } from './sha256-hex.js';
import type { PemPublicKey, VerifierOptions } from './verifier/options.js';
import { buildVerifier, type Verifier } from './verifier/verifier.js';
import { cryptoKeyKey, type WebCryptoKey, webCryptoEngine } from './verifier/webcrypto-engine.js';

export {
  authenticateRequest,
  type RequestAuthentication,
  refusalResponse,
  withAuth,
} from './middleware/fetch.js';
export * from './public-api.js';

/** A WebCrypto public key (or HMAC key), pinned to its algorithm. */
export interface CryptoKeyKey {
  readonly key: CryptoKey;
  readonly alg: JwtAlgorithm;
  readonly kid?: string;
}

/** Options of the WebCrypto verifier: static keys may also be `CryptoKey`s. */
export interface FetchVerifierOptions extends Omit<VerifierOptions, 'keys'> {
  readonly keys?: VerifierOptions['keys'] | ReadonlyArray<JWK | PemPublicKey | CryptoKeyKey>;
}

const isCryptoKeyKey = (entry: unknown): entry is CryptoKeyKey =>
  typeof entry === 'object' &&
  entry !== null &&
  typeof CryptoKey !== 'undefined' &&
  (entry as { key?: unknown }).key instanceof CryptoKey;

/**
 * Creates a verifier that needs only WebCrypto and `fetch`. Same options and behaviour as the
 * Node entry's `createVerifier`.
 *
 * @example
 * ```ts
 * import { createVerifier, withAuth } from '@gatehouse/sdk/fetch';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * export default { fetch: withAuth(verifier, (request, identity) => new Response(identity.subject)) };
 * ```
 */
export function createVerifier(options: FetchVerifierOptions): Verifier {
  return buildVerifier<WebCryptoKey>(options as VerifierOptions, {
    engine: webCryptoEngine,
    sha256: sha256Hex,
    nativeKey: (entry) =>
      isCryptoKeyKey(entry) ? cryptoKeyKey(entry.kid ?? 'static', entry.alg, entry.key) : undefined,
  });
}
