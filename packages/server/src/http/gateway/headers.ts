/**
 * What the upstream sees, and what the client gets back.
 *
 * Towards the upstream (docs/security.md #36: the gateway sets identity headers and strips
 * client-sent copies):
 * - client credentials are removed: `Authorization`, `Proxy-Authorization`, `X-API-Key` and the
 *   credential query parameters — the upstream trusts the gateway, not the caller's secret;
 * - every client-sent `X-Auth-*` header is removed, then the identity headers are set;
 * - so are the identity headers upstream frameworks and other auth proxies trust (`X-User-*`,
 *   `X-Forwarded-User`, `Remote-User`, `X-Auth-Request-*`… core/policies/strip-headers.ts), and
 *   whatever `proxy.strip_headers` and the route's `strip_headers` name;
 * - client-sent `Forwarded`, `X-Forwarded-*` and `X-Real-IP` are replaced by what the gateway
 *   saw (it is the edge: nothing in front of it is trusted to have set them);
 * - hop-by-hop headers go (RFC 9110 §7.6.1), `Expect` too (the gateway answers
 *   `100 Continue` itself); `X-Request-Id` carries the gateway's request id.
 * Back to the client, hop-by-hop headers of the upstream's response go as well, and so does an
 * `X-Gatehouse-Denied` the upstream set (only Gatehouse's own denials carry it).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../../core/pipeline/types.js';
import type { RoutePolicy } from '../../core/policies/routes.js';
import { compileStripRule, DEFAULT_STRIPPED_HEADERS, type HeaderStripRule } from '../../core/policies/strip-headers.js';
import { CREDENTIAL_HEADERS } from '../auth-request.js';
import { DENIED_HEADER } from '../denied-header.js';
import { setIdentityHeaders } from '../identity-headers.js';

/** Query parameters that carry credentials (RFC 6750 §2.3 `access_token`, and API keys). */
export const CREDENTIAL_QUERY_PARAMETERS = ['api_key', 'access_token'] as const;

/** RFC 9110 §7.6.1 connection-specific fields, plus fields that only make sense per hop. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'http2-settings',
  'proxy-authenticate',
]);
/**
 * Removed from the upstream's response: only Gatehouse says that Gatehouse denied
 * (../denied-header.ts), so an upstream cannot make its own answer look like the gateway's.
 */
const REMOVED_TOWARDS_CLIENT = new Set<string>([...HOP_BY_HOP, DENIED_HEADER]);
const REMOVED_TOWARDS_UPSTREAM = new Set<string>([...HOP_BY_HOP, ...CREDENTIAL_HEADERS, 'forwarded', 'x-real-ip']);
/** Kept for a WebSocket upgrade, which needs them to reach the upstream. */
const UPGRADE_HEADERS = new Set(['connection', 'upgrade']);

export interface ForwardingContext {
  readonly identity: Identity | null;
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host the client sent. */
  readonly originalHost: string;
  readonly requestId: string;
  /** Send the client's Host instead of the upstream's own. */
  readonly preserveHost: boolean;
  /** A translated token (`forward: jwt`) for `Authorization`, replacing the client's credential. */
  readonly bearer: string | null;
  /** Credential headers the mechanisms declare (a configured API-key header), lower case. */
  readonly credentialHeaders: readonly string[];
  /** Client headers to drop: the defaults, `proxy.strip_headers` and the route's (see stripRuleFor). */
  readonly strip: HeaderStripRule;
}

const stripRules = new WeakMap<RoutePolicy, HeaderStripRule>();

/** The route's compiled strip rule: defaults + `proxy.strip_headers` + the route's `strip_headers`. */
export function stripRuleFor(route: RoutePolicy, global: readonly string[]): HeaderStripRule {
  let rule = stripRules.get(route);
  if (!rule) {
    rule = compileStripRule([...DEFAULT_STRIPPED_HEADERS, ...global, ...(route.stripHeaders ?? [])]);
    stripRules.set(route, rule);
  }
  return rule;
}

/**
 * The headers for the upstream, from the client's (`headers` is not modified). A new object is
 * built rather than keys deleted, which keeps it a fast-properties object for undici.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  context: ForwardingContext,
  options: { upgrade?: boolean } = {},
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    // Upstreams that map headers to CGI-style variables (PHP-FPM, WSGI, Rack) read `X_User_Id`
    // as `X-User-Id`: every rule below judges the name with `_` read as `-`.
    const judged = name.includes('_') ? name.replaceAll('_', '-') : name;
    if (
      (REMOVED_TOWARDS_UPSTREAM.has(judged) && !(options.upgrade && UPGRADE_HEADERS.has(judged))) ||
      judged.startsWith('x-auth-') ||
      judged.startsWith('x-forwarded-') ||
      context.credentialHeaders.includes(judged) ||
      context.strip.matches(judged)
    ) {
      continue;
    }
    out[name] = headers[name];
  }
  // The gateway is the edge: these describe the connection it received, replacing any claim.
  out['x-forwarded-for'] = context.clientIp;
  out['x-forwarded-proto'] = context.proto;
  out['x-forwarded-host'] = context.originalHost;
  out['x-request-id'] = context.requestId;
  if (context.preserveHost) out.host = context.originalHost;
  if (context.bearer !== null) out.authorization = `Bearer ${context.bearer}`;
  setIdentityHeaders(out, context.identity, undefined);
  return out;
}

/** The upstream's response headers without hop-by-hop ones (RFC 9110 §7.6.1), as a new object. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = typeof headers.connection === 'string' ? headers.connection.toLowerCase() : '';
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (REMOVED_TOWARDS_CLIENT.has(name) || (listed.length > 0 && connectionLists(listed, name))) continue;
    out[name] = headers[name];
  }
  return out;
}

/** Does a `Connection` header value (lower case) list `name`? */
function connectionLists(connection: string, name: string): boolean {
  for (const token of connection.split(',')) if (token.trim() === name) return true;
  return false;
}
