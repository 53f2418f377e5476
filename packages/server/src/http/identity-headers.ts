/**
 * The identity headers Gatehouse hands on — to a forward-auth proxy in the 200 answer of
 * /auth/verify, and to upstreams through the gateway:
 *
 * - `X-Auth-Subject`   who the caller is (user id, API key owner, client id)
 * - `X-Auth-Method`    how they authenticated (`apikey`, `basic`, `jwt`…), or `anonymous`
 * - `X-Auth-Scopes`    their scopes, space-separated
 * - `X-Auth-Client-Id` the OAuth client or API key they came through, when known
 * plus any headers the authenticator adds. Values are made header-safe (./auth-request.ts).
 *
 * Forward auth always sends all four (empty when they do not apply, as for an anonymous caller):
 * proxies copy them onto the request with "set" semantics, so a header the answer lacked could
 * otherwise keep the client's own copy (Traefik's authResponseHeaders) or an unexpanded
 * placeholder (Caddy 2.6's copy_headers). The gateway strips client copies itself and sends only
 * the headers that apply.
 */
import type { Identity } from '../core/pipeline/types.js';
import { ANONYMOUS } from '../core/policies/routes.js';
import { headerSafe } from './auth-request.js';

export const IDENTITY_HEADERS = ['x-auth-subject', 'x-auth-method', 'x-auth-scopes', 'x-auth-client-id'] as const;

/**
 * `X-Auth-*` headers describing the caller; for an anonymous caller only `X-Auth-Method`.
 * With `complete`, every one of IDENTITY_HEADERS is set, empty when it does not apply.
 */
export function setIdentityHeaders(
  headers: Record<string, string | string[] | undefined>,
  identity: Identity | null,
  extra: Readonly<Record<string, string>> | undefined,
  options: { complete?: boolean } = {},
): void {
  if (options.complete) for (const name of IDENTITY_HEADERS) headers[name] = '';
  if (identity === null) {
    headers['x-auth-method'] = ANONYMOUS;
  } else {
    headers['x-auth-subject'] = headerSafe(identity.subject);
    headers['x-auth-method'] = identity.method;
    headers['x-auth-scopes'] = headerSafe(identity.scopes.join(' '));
    if (identity.clientId !== undefined) headers['x-auth-client-id'] = headerSafe(identity.clientId);
  }
  // The decision's own headers (a route's RateLimit-*), for an anonymous pass as for an identity.
  if (extra) {
    for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = headerSafe(value);
  }
}
