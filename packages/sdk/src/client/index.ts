/**
 * `@gatehouse/sdk/client`: calling other services as this service (client credentials grant,
 * RFC 6749 §4.4) and on behalf of a user (token exchange, RFC 8693). Runtime-neutral.
 */
export type { AssertionAlgorithm, ClientAuthentication } from './client-auth.js';
export {
  type ClientCredentials,
  type ClientCredentialsOptions,
  createClientCredentials,
  TOKEN_TYPES,
  type TokenExchangeOptions,
} from './client-credentials.js';
export { OAuthError, type TokenResponse } from './token-endpoint.js';
