/**
 * What both entries export besides their own `createVerifier`: the errors, the identity, scope
 * helpers, option and result types, and client credentials. Runtime-neutral.
 */
export * from './client/index.js';
export {
  type AuthErrorCode,
  GatehouseAuthError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
  RateLimitedError,
  RemoteDocumentError,
  VerifierUnavailableError,
} from './errors.js';
export type { AuthMethod, Identity } from './identity.js';
export type { JwtErrorCode } from './jwt/errors.js';
export type { KeySetEvent } from './keys/remote-key-set.js';
export type { AuthOptions } from './middleware/respond.js';
export { hasScopes, missingScopes, requireScopes } from './scopes.js';
export type { CredentialKind, HeaderSource } from './verifier/credentials.js';
export type { PemPublicKey, SharedSecret, VerifierOptions } from './verifier/options.js';
export type { Verifier, VerifyOptions } from './verifier/verifier.js';
