/**
 * Forward auth: which request is the proxy asking about? Each proxy describes the original
 * request its own way:
 *
 * | proxy                      | method                | URI                     | host                   |
 * | -------------------------- | --------------------- | ----------------------- | ---------------------- |
 * | nginx `auth_request`       | `X-Original-Method`*  | `X-Original-URI`*       | `X-Forwarded-Host`*    |
 * | Caddy `forward_auth`       | `X-Forwarded-Method`  | `X-Forwarded-Uri`       | `X-Forwarded-Host`     |
 * | Traefik `forwardAuth`      | `X-Forwarded-Method`  | `X-Forwarded-Uri`       | `X-Forwarded-Host`     |
 * | Envoy `ext_authz` (HTTP)   | the request's method  | path after /auth/verify | `Host`                 |
 * (* set by the `proxy_set_header` lines of our nginx example.)
 *
 * Trust: these headers decide which route's policy applies, so the proxy must *set* them,
 * overwriting whatever the client sent — all four examples in examples/ do. A proxy usually
 * forwards every other client header to the auth endpoint unchanged, so a client of nginx could
 * add `X-Forwarded-Uri`, and a client of Caddy could add `X-Original-URI`. Gatehouse therefore
 * never lets one description override another: when several are present they must agree, or
 * the request is refused (400). A client calling /auth/verify directly can name any request it
 * likes, but only learns what Gatehouse would decide for its own credentials.
 *
 * With routes configured, the URI is required (without it no route can be chosen: refusing is
 * the only safe answer), and so is the method when the URI comes from a header (nginx sends
 * every subrequest as GET, so the verify request's own method says nothing).
 */
import type { IncomingMessage } from 'node:http';
import { firstHeaderValue } from '../auth-request.js';

export const VERIFY_PATH = '/auth/verify';

/**
 * The headers describing the original request, each of which must appear at most once (on top of
 * the credential headers, which `singletonHeaders` always includes).
 */
export const FORWARD_AUTH_SINGLETON_HEADERS = [
  'x-original-uri',
  'x-forwarded-uri',
  'x-original-method',
  'x-forwarded-method',
  'x-forwarded-host',
];

export type OriginalRequest =
  | { readonly ok: true; readonly method: string; readonly uri: string; readonly host: string }
  | { readonly ok: false; readonly description: string };

const single = (request: IncomingMessage, name: string): string | undefined => firstHeaderValue(request.headers, name);

/** The one value all present descriptions agree on; `conflict` when they differ. */
function agreed(
  values: ReadonlyArray<readonly [string, string | undefined]>,
): string | undefined | { conflict: string } {
  let found: readonly [string, string] | undefined;
  for (const [name, value] of values) {
    if (value === undefined) continue;
    if (found && found[1] !== value) return { conflict: `${found[0]} and ${name} disagree` };
    found ??= [name, value];
  }
  return found?.[1];
}

export function originalRequest(request: IncomingMessage): OriginalRequest {
  const rawUrl = request.url ?? VERIFY_PATH;
  // Envoy ext_authz (HTTP service with path_prefix: /auth/verify) sends the original path below ours.
  const suffix = rawUrl.startsWith(`${VERIFY_PATH}/`) ? rawUrl.slice(VERIFY_PATH.length) : undefined;
  const uri = agreed([
    ['X-Original-URI', single(request, 'x-original-uri')],
    ['X-Forwarded-Uri', single(request, 'x-forwarded-uri')],
    ['the path below /auth/verify', suffix],
  ]);
  if (typeof uri === 'object') return { ok: false, description: `The original request is ambiguous: ${uri.conflict}` };
  if (uri === undefined) {
    return {
      ok: false,
      description:
        'Routes are configured, so the proxy must say which request it asks about (X-Forwarded-Uri, X-Original-URI, or the path below /auth/verify)',
    };
  }
  const method = agreed([
    ['X-Original-Method', single(request, 'x-original-method')],
    ['X-Forwarded-Method', single(request, 'x-forwarded-method')],
    ['the request method', suffix === undefined ? undefined : request.method],
  ]);
  if (typeof method === 'object') {
    return { ok: false, description: `The original request is ambiguous: ${method.conflict}` };
  }
  if (method === undefined) {
    return {
      ok: false,
      description:
        'The proxy must say which method the original request used (X-Forwarded-Method or X-Original-Method)',
    };
  }
  const forwardedHost = single(request, 'x-forwarded-host');
  if (forwardedHost?.includes(',')) {
    return { ok: false, description: 'X-Forwarded-Host must name one host' };
  }
  return { ok: true, method, uri, host: forwardedHost ?? single(request, 'host') ?? '' };
}
