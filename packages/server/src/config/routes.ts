/**
 * The `routes` section of the config file: parsed and validated into route policies, with one
 * line per problem naming the route and the field (`routes[0].match.path: must start with "/"`).
 * Used at start, by `gatehouse config check`, and on SIGHUP (where a file with problems leaves
 * the running routes in place).
 *
 * ```yaml
 * routes:
 *   - name: data
 *     match: { path: /data, methods: [GET] }   # also: exact, host, case_sensitive
 *     upstream: http://127.0.0.1:5000
 *     auth: [apikey, basic, jwt]               # or [anonymous], or [apikey, anonymous]
 *     scopes: [data:read]
 *     rate_limit: 100/minute
 *     forward: jwt                             # the upstream gets one short-lived JWT (aud: data)
 *     strip_headers: [X-Tenant-Id, X-Internal-*] # client copies removed (besides the defaults)
 * ```
 */
import { SCOPE_TOKEN } from '../core/oauth/scopes.js';
import { canonicalHost } from '../core/policies/host.js';
import { canonicalPath } from '../core/policies/request-target.js';
import { ANONYMOUS, type RouteMatch, type RoutePolicy } from '../core/policies/routes.js';
import { parseStripHeaders } from '../core/policies/strip-headers.js';
import { parseRate, type RateLimitRule } from '../core/ratelimit/rate.js';
import { ConfigError, type ConfigInput, editDistance, type LoadedConfig, loadConfig } from './load.js';
import { AUTH_METHODS, type Parsed, parseBoolean, parseDurationOption, parseHttpUrl } from './options.js';

export const ROUTES_SECTION = 'routes';

export interface RouteContext {
  /** `auth.methods`: a route may only name mechanisms that are enabled. */
  readonly enabledMethods: readonly string[];
}

export type ParsedRoutes = { ok: true; routes: RoutePolicy[] } | { ok: false; problems: string[] };

const ROUTE_KEYS = [
  'name',
  'match',
  'upstream',
  'strip_prefix',
  'preserve_host',
  'auth',
  'scopes',
  'rate_limit',
  'forward',
  'audience',
  'timeout',
  'responses',
  'strip_headers',
] as const;
const MATCH_KEYS = ['path', 'exact', 'host', 'methods', 'case_sensitive'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** RFC 9110 §9.1 / §5.6.2: a method is a token. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
/** The longest scope a route may require (the admin API's bound for a key's scopes). */
const MAX_SCOPE_LENGTH = 128;
const MAX_PATH_LENGTH = 1024;

const quote = (value: unknown): string => JSON.stringify(value) ?? String(value);
const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses the `routes` section. `raw` is the YAML value (a sequence of mappings). */
export function parseRoutes(raw: unknown, context: RouteContext): ParsedRoutes {
  const problems: string[] = [];
  if (raw === null || raw === undefined) return { ok: true, routes: [] };
  if (!Array.isArray(raw)) return { ok: false, problems: [`routes: must be a list of routes, got ${quote(raw)}`] };
  const routes: RoutePolicy[] = [];
  raw.forEach((item, index) => {
    const route = parseRoute(item, `routes[${index}]`, context, problems);
    if (route) routes.push(route);
  });
  if (problems.length === 0) checkCollisions(routes, problems);
  return problems.length === 0 ? { ok: true, routes } : { ok: false, problems };
}

function parseRoute(raw: unknown, at: string, context: RouteContext, problems: string[]): RoutePolicy | undefined {
  if (!isMapping(raw)) {
    problems.push(`${at}: must be a mapping with name, match, auth…, got ${quote(raw)}`);
    return undefined;
  }
  const before = problems.length;
  unknownKeys(raw, ROUTE_KEYS, at, problems);
  const field = <T>(key: string, parse: (value: unknown) => Parsed<T>, fallback: T): T => {
    if (raw[key] === undefined) return fallback;
    const parsed = parse(raw[key]);
    if (parsed.ok) return parsed.value;
    problems.push(`${at}.${key}: ${parsed.problem}`);
    return fallback;
  };

  const name = field('name', parseName, '');
  if (raw.name === undefined) problems.push(`${at}.name: is required (a short unique name such as "orders")`);
  const match = parseMatch(raw.match, `${at}.match`, problems);
  const upstream = field('upstream', parseUpstream, null);
  const stripPrefix = field('strip_prefix', parseBoolean, false);
  const preserveHost = field('preserve_host', parseBoolean, false);
  const auth = field('auth', parseAuth(context.enabledMethods), [...context.enabledMethods]);
  const scopes = field('scopes', parseScopes, []);
  const rateLimit = field('rate_limit', parseRateLimit, null);
  const forward = field('forward', parseForward, 'headers');
  const audience = field('audience', parseAudience, null);
  const timeoutMs = field('timeout', parsePositiveDuration, null);
  const responses = field('responses', parseResponses, {});
  const stripHeaders = field('strip_headers', parseStripHeaders, []);

  if (auth.includes(ANONYMOUS) && scopes.length > 0) {
    problems.push(`${at}.scopes: a route that admits anonymous callers cannot require scopes (they have none)`);
  }
  if (auth.length === 1 && auth[0] === ANONYMOUS && forward === 'jwt') {
    problems.push(`${at}.forward: jwt needs an authenticated caller; this route only admits anonymous ones`);
  }
  if (audience !== null && forward !== 'jwt') {
    problems.push(`${at}.audience: only applies to translated tokens (forward: jwt)`);
  }
  if (stripPrefix && match?.exact) {
    problems.push(`${at}.strip_prefix: only applies to prefix routes (match.exact is true)`);
  }
  if (problems.length > before || !match) return undefined;
  return Object.freeze({
    name,
    match,
    upstream,
    stripPrefix,
    preserveHost,
    auth: Object.freeze(auth),
    scopes: Object.freeze(scopes),
    rateLimit,
    forward,
    audience,
    timeoutMs,
    responses: Object.freeze(responses),
    stripHeaders: Object.freeze(stripHeaders),
  });
}

function parseMatch(raw: unknown, at: string, problems: string[]): RouteMatch | undefined {
  if (raw === undefined) {
    problems.push(`${at}: is required (at least { path: /something })`);
    return undefined;
  }
  if (!isMapping(raw)) {
    problems.push(`${at}: must be a mapping such as { path: /data, methods: [GET] }, got ${quote(raw)}`);
    return undefined;
  }
  const before = problems.length;
  unknownKeys(raw, MATCH_KEYS, at, problems);
  let path = '/';
  if (raw.path === undefined) problems.push(`${at}.path: is required`);
  else {
    const parsed = parseRoutePath(raw.path);
    if (parsed.ok) path = parsed.value;
    else problems.push(`${at}.path: ${parsed.problem}`);
  }
  const flag = (key: string, fallback: boolean): boolean => {
    if (raw[key] === undefined) return fallback;
    const parsed = parseBoolean(raw[key]);
    if (parsed.ok) return parsed.value;
    problems.push(`${at}.${key}: ${parsed.problem}`);
    return fallback;
  };
  const exact = flag('exact', false);
  const caseSensitive = flag('case_sensitive', true);
  let host: string | null = null;
  if (raw.host !== undefined) {
    const parsed = parseHostPattern(raw.host);
    if (parsed.ok) host = parsed.value;
    else problems.push(`${at}.host: ${parsed.problem}`);
  }
  let methods: string[] | null = null;
  if (raw.methods !== undefined) {
    const parsed = parseMethods(raw.methods);
    if (parsed.ok) methods = parsed.value;
    else problems.push(`${at}.methods: ${parsed.problem}`);
  }
  if (problems.length > before) return undefined;
  return Object.freeze({
    path: caseSensitive ? path : path.toLowerCase(),
    exact,
    host,
    methods: methods ? Object.freeze(methods) : null,
    caseSensitive,
  });
}

function unknownKeys(raw: Record<string, unknown>, known: readonly string[], at: string, problems: string[]): void {
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const close = known.find((candidate) => editDistance(candidate, key) <= 2);
    problems.push(`${at}.${key}: is not a known field${close ? ` (did you mean "${close}"?)` : ''}`);
  }
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

const parseName = (raw: unknown): Parsed<string> =>
  typeof raw === 'string' && NAME.test(raw)
    ? ok(raw)
    : bad(`must be 1-64 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${quote(raw)}`);

/** Route paths take the canonical form requests are compared in. */
function parseRoutePath(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string' || !raw.startsWith('/')) return bad(`must start with "/", got ${quote(raw)}`);
  if (raw.length > MAX_PATH_LENGTH) return bad(`must be at most ${MAX_PATH_LENGTH} characters`);
  if (raw.includes('?')) return bad(`must not contain a query ("?"), got ${quote(raw)}`);
  if (raw.includes('*')) return bad(`is a prefix already (/data covers /data/…); drop the "*" in ${quote(raw)}`);
  const canonical = canonicalPath(raw);
  if (typeof canonical !== 'string') return bad(`${canonical.detail.replace(/^The path/, 'it')}, got ${quote(raw)}`);
  if (canonical !== raw) return bad(`must be written in canonical form, ${quote(canonical)}, got ${quote(raw)}`);
  return ok(canonical);
}

function parseHostPattern(raw: unknown): Parsed<string> {
  const problem = bad(`must be a host name such as api.example.com or *.example.com (no port), got ${quote(raw)}`);
  if (typeof raw !== 'string') return problem;
  const wildcard = raw.startsWith('*.');
  const name = wildcard ? raw.slice(2) : raw;
  const hasPort = name.startsWith('[') ? !name.endsWith(']') : name.includes(':');
  const host = hasPort || (wildcard && name.startsWith('[')) ? null : canonicalHost(name);
  return host === null ? problem : ok(`${wildcard ? '*.' : ''}${host}`);
}

function parseMethods(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw) || raw.length === 0)
    return bad(`must be a non-empty list such as [GET, POST], got ${quote(raw)}`);
  const methods: string[] = [];
  for (const item of raw) {
    if (typeof item !== 'string' || !METHOD.test(item)) return bad(`has an entry that is not a method: ${quote(item)}`);
    const method = item.toUpperCase();
    if (methods.includes(method)) return bad(`lists ${method} twice`);
    methods.push(method);
  }
  return ok(methods);
}

function parseUpstream(raw: unknown): Parsed<string> {
  const parsed = parseHttpUrl(raw);
  if (!parsed.ok) return parsed;
  const url = new URL(parsed.value);
  if (url.username || url.password) return bad('must not carry credentials (user:password@)');
  return parsed;
}

const parseAuth =
  (enabled: readonly string[]) =>
  (raw: unknown): Parsed<string[]> => {
    const known = [...AUTH_METHODS, ANONYMOUS];
    if (!Array.isArray(raw) || raw.length === 0) {
      return bad(`must be a non-empty list of mechanisms (${known.join(', ')}), got ${quote(raw)}`);
    }
    const names: string[] = [];
    for (const item of raw) {
      if (typeof item !== 'string' || !known.includes(item)) {
        return bad(`has an unknown mechanism ${quote(item)}; allowed: ${known.join(', ')}`);
      }
      if (item !== ANONYMOUS && !enabled.includes(item)) {
        return bad(`names ${item}, which is not enabled in auth.methods (${enabled.join(',') || 'none'})`);
      }
      if (names.includes(item)) return bad(`lists ${item} twice`);
      names.push(item);
    }
    return ok(names);
  };

function parseScopes(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw)) return bad(`must be a list of scopes, got ${quote(raw)}`);
  for (const item of raw) {
    if (typeof item !== 'string' || item.length > MAX_SCOPE_LENGTH || !SCOPE_TOKEN.test(item)) {
      return bad(`has an entry that is not a scope (RFC 6749 §3.3: no spaces or quotes): ${quote(item)}`);
    }
  }
  if (new Set(raw).size !== raw.length) return bad('lists a scope twice');
  return ok(raw as string[]);
}

/** `100/minute`, `10/s`, `5000/hour`, `300/15m`: the one rate syntax of Gatehouse (core/ratelimit/rate.ts). */
export function parseRateLimit(raw: unknown): Parsed<RateLimitRule> {
  const parsed = typeof raw === 'string' ? parseRate(raw) : undefined;
  if (parsed?.ok) return ok(parsed.rule);
  return bad(
    `${parsed?.problem ?? 'must be a rate such as 100/minute, 10/s, 5000/hour or 300/15m'}, got ${quote(raw)}`,
  );
}

const parseForward = (raw: unknown): Parsed<'headers' | 'jwt'> =>
  raw === 'headers' || raw === 'jwt' ? ok(raw) : bad(`must be headers or jwt, got ${quote(raw)}`);

/** RFC 7519 §4.1.3: a StringOrURI. */
const parseAudience = (raw: unknown): Parsed<string> =>
  typeof raw === 'string' && /^[\x21-\x7e]{1,256}$/.test(raw)
    ? ok(raw)
    : bad(`must be a string or URI of 1-256 printable characters, got ${quote(raw)}`);

function parsePositiveDuration(raw: unknown): Parsed<number> {
  const parsed = parseDurationOption(raw);
  if (!parsed.ok) return parsed;
  return parsed.value > 0 ? parsed : bad('must be longer than 0');
}

function parseResponses(raw: unknown): Parsed<Partial<Record<401 | 403, unknown>>> {
  if (!isMapping(raw)) return bad(`must map 401 and/or 403 to a JSON body, got ${quote(raw)}`);
  const out: Partial<Record<401 | 403, unknown>> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== '401' && key !== '403') return bad(`can only set bodies for 401 and 403, got ${quote(key)}`);
    if (value === null || value === undefined) return bad(`${key} needs a body such as { error: Unauthorized }`);
    out[Number(key) as 401 | 403] = value;
  }
  return ok(out);
}

/** Two routes that cover the same requests would leave one unused: almost certainly a mistake. */
function checkCollisions(routes: readonly RoutePolicy[], problems: string[]): void {
  const names = new Map<string, number>();
  routes.forEach((route, index) => {
    const first = names.get(route.name);
    if (first !== undefined)
      problems.push(`routes[${index}].name: "${route.name}" is already used by routes[${first}]`);
    else names.set(route.name, index);
    for (let other = 0; other < index; other++) {
      const earlier = routes[other] as RoutePolicy;
      if (sameRequests(earlier, route)) {
        problems.push(
          `routes[${index}].match: covers the same requests as routes[${other}] ("${earlier.name}"), so one of them would never be used`,
        );
      }
    }
  });
}

function sameRequests(a: RoutePolicy, b: RoutePolicy): boolean {
  const caseless = !a.match.caseSensitive || !b.match.caseSensitive;
  const pathA = caseless ? a.match.path.toLowerCase() : a.match.path;
  const pathB = caseless ? b.match.path.toLowerCase() : b.match.path;
  if (pathA !== pathB || a.match.exact !== b.match.exact || a.match.host !== b.match.host) return false;
  if (a.match.methods === null || b.match.methods === null) return a.match.methods === b.match.methods;
  return a.match.methods.some((method) => b.match.methods?.includes(method));
}

/** The config plus its route policies; `routes` is null when the file has no `routes` section. */
export interface LoadedGatehouseConfig extends LoadedConfig {
  readonly routes: readonly RoutePolicy[] | null;
}

/** `loadConfig` with the `routes` section parsed too; every problem is reported at once. */
export function loadConfigWithRoutes(
  input: ConfigInput,
  options: { enabledMethods?: readonly string[] } = {},
): LoadedGatehouseConfig {
  const loaded = loadConfig({ ...input, extraSections: [...(input.extraSections ?? []), ROUTES_SECTION] });
  const routes = parseRoutes(loaded.sections.get(ROUTES_SECTION), {
    enabledMethods: options.enabledMethods ?? loaded.config.auth.methods,
  });
  if (!routes.ok) throw new ConfigError(routes.problems);
  return { ...loaded, routes: loaded.sections.has(ROUTES_SECTION) ? routes.routes : null };
}
