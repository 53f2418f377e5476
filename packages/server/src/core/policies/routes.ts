/**
 * Route policies: which requests a route covers (host, path, methods) and what it demands of the
 * caller (mechanisms, scopes, rate limit). The route table picks the route for a request; a
 * request that no route covers is denied (default deny).
 *
 * Choosing among routes that all match: the most specific wins, so that a catch-all route can
 * never shadow a protected one whatever the order in the file:
 * 1. a route with an exact host beats one with a `*.` host, which beats one without a host;
 * 2. then the longer path wins (an exact path beats a prefix of the same length);
 * 3. then the earlier route in the file.
 * A route whose host and path match but whose methods do not is skipped; if every matching route
 * is skipped that way, the answer is "method not allowed" with the methods that would be.
 */
import type { RateLimitRule } from '../ratelimit/rate.js';
import { canonicalHost, hostMatches } from './host.js';
import { canonicalTarget, type TargetFailure } from './request-target.js';

/** The pseudo-mechanism of routes that let callers without credentials through. */
export const ANONYMOUS = 'anonymous';

export interface RouteMatch {
  /** Canonical path (see request-target.ts). */
  readonly path: string;
  /** `true`: the path only; `false`: the path and everything below it, on segment boundaries. */
  readonly exact: boolean;
  /** Canonical host or `*.`-pattern; `null` matches any host. */
  readonly host: string | null;
  /** Upper-case methods; `null` matches any. `GET` also allows `HEAD`. */
  readonly methods: readonly string[] | null;
  /** `false` compares paths case-insensitively (for upstreams that do so themselves). */
  readonly caseSensitive: boolean;
}

export interface RoutePolicy {
  /** Unique; shown in logs and metrics, and the audience of translated tokens. */
  readonly name: string;
  readonly match: RouteMatch;
  /** Where the gateway sends the request (`http(s)://host:port[/base]`); null: forward auth only. */
  readonly upstream: string | null;
  /** Remove the matched prefix before forwarding (`/data/x` → `/x` for a `/data` route). */
  readonly stripPrefix: boolean;
  /** Send the client's `Host` to the upstream instead of the upstream's own. */
  readonly preserveHost: boolean;
  /** Accepted mechanisms in order; `anonymous` lets callers without credentials through. */
  readonly auth: readonly string[];
  /** Every one is required. */
  readonly scopes: readonly string[];
  /** Per caller: per subject when authenticated, per client address when anonymous. */
  readonly rateLimit: RateLimitRule | null;
  /** How the identity reaches the upstream: `X-Auth-*` headers, or those plus a translated JWT. */
  readonly forward: 'headers' | 'jwt';
  /** `aud` of translated tokens (`forward: jwt`); null: the route's name. */
  readonly audience: string | null;
  /** Upstream response timeout override, in milliseconds. */
  readonly timeoutMs: number | null;
  /** Custom JSON bodies for denials, by status. */
  readonly responses: Readonly<Partial<Record<401 | 403, unknown>>>;
  /**
   * Client-sent headers removed before forwarding, besides the defaults (./strip-headers.ts):
   * names or `prefix*` patterns, lower case.
   */
  readonly stripHeaders?: readonly string[];
}

export type RouteLookup =
  | { readonly kind: 'matched'; readonly route: RoutePolicy }
  | { readonly kind: 'method_not_allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'no_route' };

export interface RouteTable {
  readonly routes: readonly RoutePolicy[];
  /** `host` and `path` canonical (see host.ts and request-target.ts). */
  lookup(method: string, host: string | null, path: string): RouteLookup;
}

interface CompiledRoute {
  readonly route: RoutePolicy;
  readonly path: string;
  readonly methods: ReadonlySet<string> | null;
}

const NO_ROUTE: RouteLookup = { kind: 'no_route' };

export function createRouteTable(routes: readonly RoutePolicy[]): RouteTable {
  const compiled: CompiledRoute[] = routes
    .map((route, index) => ({ route, index }))
    .sort((a, b) => specificity(b.route) - specificity(a.route) || a.index - b.index)
    .map(({ route }) => ({
      route,
      path: route.match.caseSensitive ? route.match.path : route.match.path.toLowerCase(),
      methods: route.match.methods ? allowedMethods(route.match.methods) : null,
    }));
  const matched = new Map<RoutePolicy, RouteLookup>(
    routes.map((route) => [route, { kind: 'matched', route }] as const),
  );

  return {
    routes,
    lookup(method, host, path) {
      let lowerPath: string | undefined;
      let allowed: Set<string> | undefined;
      for (const entry of compiled) {
        const { match } = entry.route;
        if (match.host !== null && (host === null || !hostMatches(match.host, host))) continue;
        if (!match.caseSensitive && lowerPath === undefined) lowerPath = path.toLowerCase();
        const candidate = match.caseSensitive ? path : (lowerPath as string);
        if (!pathMatches(entry.path, match.exact, candidate)) continue;
        if (entry.methods === null || entry.methods.has(method)) return matched.get(entry.route) as RouteLookup;
        allowed ??= new Set();
        for (const name of entry.methods) allowed.add(name);
      }
      return allowed ? { kind: 'method_not_allowed', allowed: [...allowed].sort() } : NO_ROUTE;
    },
  };
}

/** Where a request belongs, once its target and host are canonical. */
export type RouteLocation =
  | {
      readonly kind: 'matched';
      readonly route: RoutePolicy;
      /** The canonical path, the query as sent, and both as one origin-form target. */
      readonly path: string;
      readonly query: string;
      readonly url: string;
    }
  | { readonly kind: 'bad_target'; readonly failure: TargetFailure }
  | { readonly kind: 'bad_host' }
  | { readonly kind: 'method_not_allowed'; readonly path: string; readonly allowed: readonly string[] }
  | { readonly kind: 'no_route'; readonly path: string };

/**
 * The route of a request (`target` and `host` as received): its target canonicalised first, then
 * its host, then the table asked. The gateway and forward auth both go through here, so that a
 * request is placed under the same route's policy whichever enforcement point sees it.
 */
export function locateRoute(table: RouteTable | null, method: string, target: string, host: string): RouteLocation {
  const canonical = canonicalTarget(target);
  if (!canonical.ok) return { kind: 'bad_target', failure: canonical };
  const hostName = canonicalHost(host);
  if (hostName === null) return { kind: 'bad_host' };
  const { path, query } = canonical;
  const found = table?.lookup(method, hostName, path) ?? NO_ROUTE;
  if (found.kind === 'matched') {
    return { kind: 'matched', route: found.route, path, query, url: query ? `${path}?${query}` : path };
  }
  return found.kind === 'method_not_allowed'
    ? { kind: 'method_not_allowed', path, allowed: found.allowed }
    : { kind: 'no_route', path };
}

/** Prefix matches respect segment boundaries: `/data` covers `/data` and `/data/x`, not `/database`. */
export function pathMatches(routePath: string, exact: boolean, path: string): boolean {
  if (path === routePath) return true;
  if (exact || !path.startsWith(routePath)) return false;
  return routePath.endsWith('/') || path.charCodeAt(routePath.length) === 0x2f;
}

/** Larger is more specific; see the module comment for the order. */
function specificity(route: RoutePolicy): number {
  const host = route.match.host === null ? 0 : route.match.host.startsWith('*.') ? 1 : 2;
  return host * 1_000_000 + route.match.path.length * 2 + (route.match.exact ? 1 : 0);
}

/** RFC 9110 §9.3.2: HEAD is GET without the body, so a route open to GET is open to HEAD. */
function allowedMethods(methods: readonly string[]): ReadonlySet<string> {
  const set = new Set(methods);
  if (set.has('GET')) set.add('HEAD');
  return set;
}

/** Everything the route's `path` prefix covers is removed; the rest keeps its leading slash. */
export function strippedPath(route: RoutePolicy, path: string): string {
  if (!route.stripPrefix || route.match.exact) return route.stripPrefix ? '/' : path;
  const prefix = route.match.path.endsWith('/') ? route.match.path.slice(0, -1) : route.match.path;
  const rest = path.slice(prefix.length);
  return rest.length === 0 ? '/' : rest;
}

/** A route's upstream, parsed once. */
export interface UpstreamTarget {
  readonly url: URL;
  readonly origin: string;
  /** The upstream URL's path without a trailing slash ('' for none). */
  readonly basePath: string;
}

const upstreamTargets = new WeakMap<RoutePolicy, UpstreamTarget>();

/** The upstream of a route that has one (the gateway never forwards on a forward-auth-only route). */
export function upstreamTarget(route: RoutePolicy): UpstreamTarget {
  let target = upstreamTargets.get(route);
  if (!target) {
    const url = new URL(route.upstream as string);
    target = { url, origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
    upstreamTargets.set(route, target);
  }
  return target;
}

/** The upstream's path for `path` (canonical) on `route`: the upstream URL's own path, then the request's. */
export const upstreamPath = (route: RoutePolicy, path: string): string =>
  `${upstreamTarget(route).basePath}${strippedPath(route, path)}`;

/**
 * The route table in force. A reload swaps the whole table at once, so each request sees one
 * table from start to end. `current()` is null when the config has no `routes` section
 * (forward auth then keeps its route-less behaviour).
 */
export interface ActiveRoutes {
  current(): RouteTable | null;
  replace(routes: readonly RoutePolicy[]): void;
}

export function createActiveRoutes(initial: readonly RoutePolicy[] | null): ActiveRoutes {
  let table = initial === null ? null : createRouteTable(initial);
  return {
    current: () => table,
    replace(routes) {
      table = createRouteTable(routes);
    },
  };
}
