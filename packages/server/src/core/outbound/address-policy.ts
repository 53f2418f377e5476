/**
 * Which network addresses an outbound fetch made on behalf of a client or of configuration (a
 * client's `jwks_uri`, later an external issuer's JWKS) may connect to. Only globally routable
 * unicast addresses are reachable by default: loopback, RFC 1918 private ranges, link-local
 * (169.254/16, fe80::/10, where cloud metadata services live), unique-local (fc00::/7), CGNAT
 * (100.64/10), 0.0.0.0/8, multicast, broadcast, the IANA special-purpose blocks, and IPv6 forms
 * that embed an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) are refused — unless the operator
 * allowlists them (`outbound.allow`: host names, addresses or CIDRs).
 *
 * The ranges come from ipaddr.js (IANA's special-purpose registries, RFC 6890); this module only
 * decides. It is checked on the resolved address of every connection (http/outbound/outbound-fetch.ts), so a
 * host name that resolves, or later rebinds, to an internal address is refused as well.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why an address is refused: ipaddr.js's range name (`loopback`, `private`, `linkLocal`…). */
export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly range: string };

export interface AddressAllowlist {
  /** Lower-case host names whose every resolved address is allowed. */
  readonly hosts: ReadonlySet<string>;
  /** Address ranges that are allowed although not public. */
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const EMPTY_ALLOWLIST: AddressAllowlist = { hosts: new Set(), ranges: [] };

/** Strips the brackets of an IPv6 URL host (`[::1]` → `::1`). */
export const unbracket = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

/**
 * The public-or-not classification, without any allowlist. IPv4-mapped IPv6 (`::ffff:127.0.0.1`)
 * is judged as the IPv4 address it carries; any other IPv6 block that embeds IPv4 (NAT64
 * 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32, IPv4-compatible ::/96) is refused outright,
 * since the IPv4 address it reaches cannot be judged from here.
 */
export function classifyAddress(address: string): AddressVerdict {
  if (!isIP(address)) return { allowed: false, range: 'invalid' };
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return { allowed: false, range: 'invalid' }; // fail closed on a form Node accepts and ipaddr.js does not
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  return range === 'unicast' ? { allowed: true } : { allowed: false, range };
}

/** Is `address` (an IP literal) inside one of the allowlisted ranges? Mapped IPv6 counts as its IPv4. */
function inAllowedRange(address: string, allowlist: AddressAllowlist): boolean {
  if (allowlist.ranges.length === 0) return false;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  return allowlist.ranges.some(([base, bits]) => parsed.kind() === base.kind() && parsed.match(base, bits));
}

/**
 * May a connection go to `address`, reached through the URL host `host`? An allowlisted host name
 * vouches for every address it resolves to; otherwise the address must be public or inside an
 * allowlisted range.
 */
export function checkAddress(host: string, address: string, allowlist: AddressAllowlist): AddressVerdict {
  if (allowlist.hosts.has(unbracket(host).toLowerCase())) return { allowed: true };
  const verdict = classifyAddress(address);
  if (verdict.allowed || !isIP(address)) return verdict;
  return inAllowedRange(address, allowlist) ? { allowed: true } : verdict;
}

/**
 * Parses the operator's allowlist: host names (`keys.internal`), addresses (`10.0.0.5`, `::1`)
 * and CIDRs (`10.0.0.0/8`, `fd00::/8`). Answers the problem with the first bad entry.
 */
export function parseAllowlist(
  entries: readonly string[],
): { ok: true; value: AddressAllowlist } | { ok: false; problem: string } {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of entries) {
    const entry = unbracket(raw.trim()).toLowerCase();
    if (entry === '') continue;
    if (entry.includes('/')) {
      try {
        ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        return { ok: false, problem: `"${raw}" is not a CIDR such as 10.0.0.0/8 or fd00::/8` };
      }
    } else if (isIP(entry)) {
      const address = ipaddr.parse(entry);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (
      /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?)*\.?$/.test(
        entry,
      )
    ) {
      hosts.add(entry.replace(/\.$/, ''));
    } else {
      return { ok: false, problem: `"${raw}" is neither a host name, an IP address nor a CIDR` };
    }
  }
  return { ok: true, value: { hosts, ranges } };
}
