/**
 * What the upstream sees, and what the client gets back.
 *
 * Towards the upstream (SECURITY.md #36: the gateway sets identity headers and strips
 * client-sent copies):
 * - client credentials are removed: `Authorization`, `Proxy-Authorization`, `X-API-Key` and the
 *   credential query parameters — the upstream trusts the gateway, not the caller's secret;
 * - every client-sent `X-Auth-*` header is removed, then the identity headers are set;
 * - client-sent `Forwarded`, `X-Forwarded-*` and `X-Real-IP` are replaced by what the gateway
 *   saw (it is the edge: nothing in front of it is trusted to have set them);
 * - hop-by-hop headers go (RFC 9110 §7.6.1), `Expect` too (the gateway answers
 *   `100 Continue` itself); `X-Request-Id` carries the gateway's request id.
 * Back to the client, hop-by-hop headers of the upstream's response go as well.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../../core/pipeline/types.js';
import { setIdentityHeaders } from '../identity-headers.js';

/** Headers that carry the caller's credentials. */
export const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key'] as const;
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
const REMOVED_TOWARDS_UPSTREAM = new Set<string>([...HOP_BY_HOP, ...CREDENTIAL_HEADERS, 'forwarded', 'x-real-ip']);
/** Kept for a WebSocket upgrade, which needs them to reach the upstream. */
const UPGRADE_HEADERS = new Set(['connection', 'upgrade']);

export interface ForwardingContext {
  readonly identity: Identity | null;
  readonly identityHeaders: Readonly<Record<string, string>> | undefined;
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host the client sent. */
  readonly originalHost: string;
  readonly requestId: string;
  /** Send the client's Host instead of the upstream's own. */
  readonly preserveHost: boolean;
}

/** Rewrites `headers` (a copy the caller owns) for the upstream. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  context: ForwardingContext,
  options: { upgrade?: boolean } = {},
): IncomingHttpHeaders {
  for (const name of Object.keys(headers)) {
    if (options.upgrade && UPGRADE_HEADERS.has(name)) continue;
    if (REMOVED_TOWARDS_UPSTREAM.has(name) || name.startsWith('x-auth-') || name.startsWith('x-forwarded-')) {
      delete headers[name];
    }
  }
  // The gateway is the edge: these describe the connection it received, replacing any claim.
  headers['x-forwarded-for'] = context.clientIp;
  headers['x-forwarded-proto'] = context.proto;
  headers['x-forwarded-host'] = context.originalHost;
  headers['x-request-id'] = context.requestId;
  if (context.preserveHost) headers.host = context.originalHost;
  setIdentityHeaders(headers, context.identity, context.identityHeaders);
  return headers;
}

/** Removes hop-by-hop headers from the upstream's response (RFC 9110 §7.6.1). */
export function clientResponseHeaders<T extends Record<string, unknown>>(headers: T): T {
  const listed = typeof headers.connection === 'string' ? headers.connection.toLowerCase().split(',') : [];
  for (const name of listed) delete headers[name.trim()];
  for (const name of HOP_BY_HOP) delete headers[name];
  return headers;
}
