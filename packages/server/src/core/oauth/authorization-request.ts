/**
 * Validating an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1), as
 * ordered steps. Until the client and its redirect URI are known to be good, an error must not be
 * redirected: it is shown to the user (RFC 6749 §4.1.2.1, docs/security.md #13). After that, errors go
 * back to the client's redirect URI with `state` and `iss` (RFC 9207).
 */
import { chooseAudience } from './audience.js';
import { type ClientStore, GRANT_TYPES, type OAuthClient } from './clients.js';
import {
  InvalidRequest,
  InvalidScope,
  type OAuthError,
  UnauthorizedClient,
  UnsupportedResponseType,
} from './errors.js';
import type { OAuthParams } from './params.js';
import { CODE_CHALLENGE } from './pkce.js';
import { matchRedirectUri } from './redirect-uri.js';
import { parseScope, scopesBeyond } from './scopes.js';

/** A validated authorization request: what the code will be bound to. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly redirectUriGiven: boolean;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly prompt: readonly string[];
  readonly maxAge: number | undefined;
  readonly audience: readonly string[] | undefined;
}

export type AuthorizationValidation =
  | { readonly kind: 'valid'; readonly client: OAuthClient; readonly request: AuthorizationRequest }
  /** Shown on a page; never redirected (unknown client, bad redirect URI). */
  | { readonly kind: 'show'; readonly error: OAuthError }
  /** Sent back to the client's redirect URI. */
  | {
      readonly kind: 'redirect';
      readonly redirectUri: string;
      readonly state: string | undefined;
      readonly error: OAuthError;
    };

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

export async function validateAuthorizationRequest(
  clients: ClientStore,
  params: OAuthParams,
  duplicate: string | undefined,
): Promise<AuthorizationValidation> {
  const show = (error: OAuthError): AuthorizationValidation => ({ kind: 'show', error });

  // Step 1: the client. Nothing can be redirected before it and its redirect URI are known.
  if (duplicate === 'client_id' || duplicate === 'redirect_uri') {
    return show(new InvalidRequest(`The ${duplicate} parameter appears more than once (RFC 6749 §3.1)`));
  }
  const clientId = params.get('client_id');
  if (clientId === undefined) return show(new InvalidRequest('client_id is missing'));
  const client = await clients.find(clientId);
  if (!client) return show(new InvalidRequest('The client is not registered'));

  // Step 2: the redirect URI, matched exactly (RFC 9700 §4.1.3); optional only when a single one is registered.
  const given = params.get('redirect_uri');
  let redirectUri: string;
  if (given === undefined) {
    if (client.redirectUris.length !== 1) return show(new InvalidRequest('redirect_uri is missing'));
    redirectUri = client.redirectUris[0] as string;
  } else {
    if (!matchRedirectUri(given, client.redirectUris)) {
      return show(new InvalidRequest('redirect_uri is not registered for this client'));
    }
    redirectUri = given;
  }

  const state = params.get('state');
  const redirect = (error: OAuthError): AuthorizationValidation => ({ kind: 'redirect', redirectUri, state, error });
  if (duplicate !== undefined) {
    return redirect(new InvalidRequest(`The ${duplicate} parameter appears more than once (RFC 6749 §3.1)`));
  }

  // Step 3: the grant (docs/security.md #16) and the response type: code only (RFC 9700 §2.1.2: no implicit).
  if (!client.grantTypes.includes(GRANT_TYPES.authorizationCode)) {
    return redirect(new UnauthorizedClient('This client may not use the authorization code grant'));
  }
  const responseType = params.get('response_type');
  if (responseType === undefined) return redirect(new InvalidRequest('response_type is missing'));
  if (responseType !== 'code') {
    return redirect(new UnsupportedResponseType('Only response_type=code is supported'));
  }
  if (params.get('request') !== undefined || params.get('request_uri') !== undefined) {
    return redirect(new InvalidRequest('Request objects (request, request_uri) are not supported'));
  }
  const responseMode = params.get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') {
    return redirect(new InvalidRequest('Only response_mode=query is supported'));
  }

  // Step 4: PKCE, required for every client, S256 only (RFC 9700 §2.1.1, docs/security.md #14).
  const codeChallenge = params.get('code_challenge');
  if (codeChallenge === undefined) return redirect(new InvalidRequest('code_challenge is required (PKCE, RFC 7636)'));
  if (params.get('code_challenge_method') !== 'S256') {
    return redirect(new InvalidRequest('code_challenge_method must be S256; plain is not accepted'));
  }
  if (!CODE_CHALLENGE.test(codeChallenge)) {
    return redirect(new InvalidRequest('code_challenge must be 43 base64url characters (RFC 7636 §4.2)'));
  }

  // Step 5: scope, within what the client may receive (RFC 6749 §3.3).
  const scope = parseScope(params.get('scope'));
  if (!scope.ok) return redirect(new InvalidScope(scope.problem));
  const beyond = scopesBeyond(scope.scopes, client.scopes);
  if (beyond.length > 0) return redirect(new InvalidScope(`Scope not allowed: ${beyond.join(' ')}`));
  const scopes = params.get('scope') === undefined ? [...client.scopes] : scope.scopes;

  // Step 6: audience (RFC 8707), prompt and max_age (OIDC Core §3.1.2.1).
  const audience = chooseAudience(client, params);
  if (!audience.ok) return redirect(audience.error);
  const prompt = (params.get('prompt') ?? '').split(' ').filter((value) => value !== '');
  if (prompt.some((value) => !PROMPTS.has(value))) return redirect(new InvalidRequest('prompt has an unknown value'));
  if (prompt.includes('none') && prompt.length > 1) {
    return redirect(new InvalidRequest('prompt=none cannot be combined with other values'));
  }
  const maxAgeText = params.get('max_age');
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) {
    return redirect(new InvalidRequest('max_age must be a non-negative integer'));
  }

  return {
    kind: 'valid',
    client,
    request: {
      clientId: client.id,
      redirectUri,
      redirectUriGiven: given !== undefined,
      scopes,
      state,
      codeChallenge,
      nonce: params.get('nonce'),
      prompt,
      maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
      audience: audience.audience,
    },
  };
}

/**
 * The authorization response URL: the registered redirect URI with the parameters appended to its
 * query, the URI itself left byte-for-byte as registered (RFC 6749 §4.1.2, RFC 9207 §2).
 */
export function authorizationResponseUrl(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.append(name, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}
