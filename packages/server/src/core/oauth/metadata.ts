/**
 * Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (OIDC Discovery §3):
 * exactly what this server supports, no more. `issuer` is the configured issuer, unchanged
 * (RFC 8414 §3.3, docs/security.md #25).
 */
import { CLAIMS_BY_SCOPE } from './claims.js';
import { ASSERTION_ALGS, AUTH_METHODS } from './clients.js';

export const OAUTH_PATHS = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  userinfo: '/oauth/userinfo',
  jwks: '/.well-known/jwks.json',
} as const;

/** OIDC Discovery §3 `claims_supported`: the ID token's own claims and every standard user claim. */
export const OIDC_CLAIMS: readonly string[] = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'at_hash',
  ...Object.values(CLAIMS_BY_SCOPE).flat(),
];

export interface MetadataInput {
  readonly issuer: string;
  readonly grantTypes: readonly string[];
  readonly scopes: readonly string[];
  readonly idTokenAlgs: readonly string[];
}

export function authorizationServerMetadata(input: MetadataInput): Record<string, unknown> {
  const url = (path: string) => `${input.issuer}${path}`;
  const authMethods = [...AUTH_METHODS];
  const confidentialMethods = authMethods.filter((method) => method !== 'none');
  return {
    issuer: input.issuer,
    authorization_endpoint: url(OAUTH_PATHS.authorization),
    token_endpoint: url(OAUTH_PATHS.token),
    jwks_uri: url(OAUTH_PATHS.jwks),
    userinfo_endpoint: url(OAUTH_PATHS.userinfo),
    introspection_endpoint: url(OAUTH_PATHS.introspection),
    revocation_endpoint: url(OAUTH_PATHS.revocation),
    scopes_supported: [...input.scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...input.grantTypes],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    // docs/security.md #14: S256 only.
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3.
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...input.idTokenAlgs],
    claims_supported: [...OIDC_CLAIMS],
    claims_parameter_supported: false,
    // OIDC Discovery §3: request_uri_parameter_supported defaults to true; say false explicitly.
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent'],
  };
}
