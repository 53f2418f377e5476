/**
 * Adapts an HTTP request into the pipeline's `AuthRequest`, after refusing requests that carry
 * a credential header more than once. Node keeps only the first `Authorization` header in
 * `req.headers` and silently drops the rest (and joins repeated custom headers with ", "), so two
 * credentials could otherwise be read differently by us and by an upstream: the raw header list is
 * the only place to see them (docs/security.md #28; RFC 9110 §5.3).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthRequest } from '../core/pipeline/types.js';

/** Headers that carry credentials: each must appear at most once, and none reaches an upstream. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key'];

/**
 * The singleton headers plus those the enabled mechanisms declare (a configured API-key header
 * name), for `findDuplicateHeader`. Compute it once per surface, not per request.
 */
export function singletonHeaders(credentialHeaders: readonly string[]): readonly string[] {
  return [...new Set([...CREDENTIAL_HEADERS, ...credentialHeaders.map((name) => name.toLowerCase())])];
}

/**
 * The name of the first singleton header that appears more than once, or undefined. Costs one
 * pass over the raw header names, comparing lengths before case-folding.
 */
export function findDuplicateHeader(
  rawHeaders: readonly string[],
  singletons: readonly string[] = CREDENTIAL_HEADERS,
): string | undefined {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    for (let j = 0; j < singletons.length; j++) {
      const singleton = singletons[j] as string;
      if (name.length === singleton.length && name.toLowerCase() === singleton) {
        const bit = 1 << j;
        if (seen & bit) return singleton;
        seen |= bit;
      }
    }
  }
  return undefined;
}

/** A header's value; the first when Node gives a list (it does for `set-cookie`). */
export function firstHeaderValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The request as the pipeline sees it, from its parts (`url`/`method` are the original request's for forward auth). */
export function authRequestFrom(parts: {
  headers: IncomingHttpHeaders;
  method: string;
  url: string;
  secure: boolean;
  clientIp: string;
}): AuthRequest {
  const { headers } = parts;
  return {
    header: (name) => firstHeaderValue(headers, name),
    method: parts.method,
    url: parts.url,
    secure: parts.secure,
    clientIp: parts.clientIp,
  };
}

/**
 * Identity header values come from our own store, but are sanitised anyway: a CR, LF or other
 * control character in a header value would make Node throw (or worse, split the response).
 * Characters outside printable ASCII are percent-encoded; a lone surrogate (which `JSON.parse`
 * keeps from a `"\ud800"` escape, and which `encodeURI` throws on) becomes U+FFFD first.
 */
export function headerSafe(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return encodeURI(value.replace(/\p{Cs}/gu, '\uFFFD')).replace(/%20/g, ' ');
}
