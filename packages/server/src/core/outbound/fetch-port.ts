/**
 * The port through which the core fetches a document on behalf of a client or of configuration
 * (a client's `jwks_uri`; later an external issuer's JWKS). The adapter (http/outbound/) applies
 * the outbound fetch policy — size cap, timeouts, no redirects, https only, no internal
 * addresses — so the core never opens a connection itself (docs/security.md, "Outbound fetches").
 */

/** Why a fetch was refused or failed; stable codes for logs and `invalid_client` reasons. */
export type OutboundRefusalReason =
  /** Not an absolute http(s) URL, or it carries credentials. */
  | 'invalid_url'
  /** Plain `http` outside development mode. */
  | 'scheme_refused'
  /** The host is, or resolved to, an address that is not public (and not allowlisted). */
  | 'address_refused'
  /** The body (or its announced length) exceeds the size cap. */
  | 'too_large'
  /** The connection or the whole exchange took longer than allowed. */
  | 'timeout'
  /** A 3xx answer: redirects are not followed. */
  | 'redirect_refused'
  /** Any other non-2xx status. */
  | 'bad_status'
  /** DNS, TCP or TLS failure. */
  | 'network_error';

export type OutboundResult =
  | { readonly ok: true; readonly status: number; readonly contentType: string | undefined; readonly body: Uint8Array }
  | { readonly ok: false; readonly reason: OutboundRefusalReason; readonly detail: string };

export interface OutboundFetcher {
  /** GET `url` under the policy. Never throws for a refusal or a network failure: answers it. */
  get(url: string, options?: { readonly accept?: string }): Promise<OutboundResult>;
  /**
   * What registration can tell about a URL before any fetch: the scheme, credentials in it, and
   * an IP-literal (or `localhost`) host that is not allowed. Undefined when nothing is wrong yet;
   * a host name can only be judged when it is resolved, at use.
   */
  checkUrl(url: string): string | undefined;
}
