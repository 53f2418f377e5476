/**
 * `@gatehouse/sdk` — verify Gatehouse credentials inside a Node service.
 *
 * - {@link createVerifier}: JWT access tokens verified locally (keys discovered from the issuer
 *   and cached), API keys / Basic / opaque tokens verified by the issuer (cached, coalesced);
 * - middleware: `@gatehouse/sdk/node`, `/express`, `/fastify`, `/hono`; `@gatehouse/sdk/fetch`
 *   for runtimes with only WebCrypto;
 * - {@link createClientCredentials}: this service's own tokens, and token exchange.
 */
import { createHash, KeyObject } from 'node:crypto';
import type { JwtAlgorithm, VerificationKey } from './jwt/keys.js';
import { keyObjectKey, nodeEngine } from './verifier/node-engine.js';
import type { PemPublicKey, VerifierOptions } from './verifier/options.js';
import { buildVerifier, type Verifier } from './verifier/verifier.js';

export * from './public-api.js';

export const SDK_VERSION = '0.1.0';

/** A Node `KeyObject` public key (or HS256 secret key), pinned to its algorithm. */
export interface KeyObjectKey {
  readonly key: KeyObject;
  readonly alg: JwtAlgorithm;
  /** Matches the token's `kid`; omit for a single key that answers any kid. */
  readonly kid?: string;
}

/** Options of the Node verifier: static keys may also be `KeyObject`s. */
export interface NodeVerifierOptions extends Omit<VerifierOptions, 'keys'> {
  readonly keys?: VerifierOptions['keys'] | ReadonlyArray<import('jose').JWK | PemPublicKey | KeyObjectKey>;
}

const isKeyObjectKey = (entry: unknown): entry is KeyObjectKey =>
  typeof entry === 'object' && entry !== null && (entry as { key?: unknown }).key instanceof KeyObject;

/**
 * Creates a verifier for one service: one issuer, one audience. Create it once at startup and
 * share it (its caches are what make it fast).
 *
 * @example
 * ```ts
 * import { createVerifier, GatehouseAuthError } from '@gatehouse/sdk';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',   // keys are discovered from its metadata
 *   audience: 'https://orders.example.com',
 * });
 * await verifier.ready(); // optional: fetch the keys now, fail at startup if they are unusable
 *
 * const identity = await verifier.verify(token, { scopes: ['orders:read'] });
 * console.log(identity.subject, identity.scopes, identity.clientId);
 * ```
 */
export function createVerifier(options: NodeVerifierOptions): Verifier {
  return buildVerifier<VerificationKey>(options as VerifierOptions, {
    engine: nodeEngine,
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
    nativeKey: (entry) =>
      isKeyObjectKey(entry) ? keyObjectKey(entry.key, entry.alg, entry.kid ?? 'static') : undefined,
  });
}
