/**
 * Client-sent headers the gateway removes before forwarding, because upstream frameworks take them
 * for identity (docs/security.md #36: the service sets identity headers and the gateway strips
 * client-sent copies; ASVS 4.1.3). Gatehouse's own `X-Auth-*` and every `X-Forwarded-*` are
 * always replaced by the gateway's; on top of those, by default, the identity headers of common
 * auth proxies and frameworks go, and operators add their own with `strip_headers` (per route,
 * and `proxy.strip_headers` for every route). docs/gateway.md lists them.
 *
 * A pattern is a header name (`X-Tenant-Id`) or a prefix ending in `*` (`X-Tenant-*`),
 * case-insensitive.
 */

/** Stripped on every route, whatever the configuration. */
export const DEFAULT_STRIPPED_HEADERS: readonly string[] = [
  'x-user-*', // X-User-Id, X-User-Email, X-User-Roles… (many frameworks' "trusted proxy" auth)
  'x-user',
  'x-forwarded-user', // oauth2-proxy, Pomerium, Authelia
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-remote-user', // Kubernetes authenticating proxy: X-Remote-User, X-Remote-Group, X-Remote-Extra-*
  'x-remote-*',
  'remote-user', // Authelia, Apache REMOTE_USER conventions
  'remote-groups',
  'remote-email',
  'remote-name',
  'x-auth-request-*', // oauth2-proxy, nginx auth_request setups
  'x-authenticated-*', // Kong (X-Authenticated-Userid, -Scope, -Groups), Apigee
  'x-auth-*', // Gatehouse's own identity headers, set again by the gateway
  'x-consumer-*', // Kong (X-Consumer-ID, X-Consumer-Username)
  'x-credential-identifier', // Kong
  'x-webauth-*', // Grafana auth proxy (X-WEBAUTH-USER)
  'x-ms-client-principal*', // Azure App Service authentication
  'x-goog-authenticated-user-*', // Google IAP
  'x-amzn-oidc-*', // AWS ALB authentication
  'cf-access-*', // Cloudflare Access (Cf-Access-Authenticated-User-Email, -Jwt-Assertion)
];

/** RFC 9110 §5.6.2: a field name is a token; a trailing `*` makes it a prefix. */
const PATTERN = /^[!#$%&'+.^_`|~0-9a-z-]+\*?$/;
/** The gateway needs these to reach the upstream at all. */
const UNSTRIPPABLE = new Set(['host', 'content-length', 'content-type', 'transfer-encoding']);

export type ParsedStripHeaders = { ok: true; value: string[] } | { ok: false; problem: string };

/** Parses a `strip_headers` list (YAML sequence, or a comma-separated string from the environment). */
export function parseStripHeaders(raw: unknown): ParsedStripHeaders {
  const items =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
      : raw;
  if (!Array.isArray(items))
    return { ok: false, problem: `must be a list of header names, got ${JSON.stringify(raw)}` };
  const out: string[] = [];
  for (const item of items) {
    const name = typeof item === 'string' ? item.trim().toLowerCase() : '';
    if (!PATTERN.test(name)) {
      return {
        ok: false,
        problem: `has an entry that is not a header name or a prefix such as X-Tenant-*: ${JSON.stringify(item)}`,
      };
    }
    if (UNSTRIPPABLE.has(name.replace(/\*$/, ''))) {
      return { ok: false, problem: `cannot strip ${name}: the request needs it to reach the upstream` };
    }
    if (!out.includes(name)) out.push(name);
  }
  return { ok: true, value: out };
}

/** A compiled set of patterns: does a (lower-case) header name match? */
export interface HeaderStripRule {
  matches(name: string): boolean;
}

export function compileStripRule(patterns: readonly string[]): HeaderStripRule {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return {
    matches(name) {
      if (exact.has(name)) return true;
      for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
      return false;
    },
  };
}
