/**
 * Canonical host names for route matching. Host names are case-insensitive (RFC 3986 §6.2.2.1,
 * RFC 9110 §4.2.3); a fully qualified name may end with a dot (`api.example.com.` names the same
 * host as `api.example.com`, RFC 1034 §3.1), so one trailing dot is dropped. The port is not part
 * of the match. Anything that is not a plausible host (`..`, `@`, `%`, spaces, an empty label) is
 * refused, so a strange spelling can never fall through to a less specific route.
 */

const NAME_WITH_PORT = /^([a-z0-9_.-]{1,254})(?::\d{1,5})?$/;
/** A DNS label is at most 63 octets (RFC 1035 §2.3.4). */
const LONG_LABEL = /[^.]{64}/;
const IPV6_WITH_PORT = /^(\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The canonical host of a `Host` header value (port dropped), or `null` when it is not a host. */
export function canonicalHost(value: string): string | null {
  const lower = value.toLowerCase();
  const ipv6 = IPV6_WITH_PORT.exec(lower);
  if (ipv6) return ipv6[1] as string;
  const match = NAME_WITH_PORT.exec(lower);
  if (!match) return null;
  const raw = match[1] as string;
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || name.length > 253 || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return null;
  }
  return LONG_LABEL.test(name) ? null : name;
}

/**
 * Does `host` (canonical) match a route's host pattern? A pattern is a canonical host name, or
 * `*.` followed by one: the star stands for exactly one label (`*.example.com` matches
 * `api.example.com`, not `example.com` nor `a.b.example.com`), as in TLS certificates.
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}
