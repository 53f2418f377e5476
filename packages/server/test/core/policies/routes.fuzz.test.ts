/**
 * Property-based fuzzing of the route matcher (src/core/policies/routes.ts, host.ts): random route
 * tables and requests against a plain model of the documented rules (docs/gateway.md, the module
 * comment of routes.ts) — host exact beats `*.` beats none, then the longer path, then exact over
 * prefix, then file order; prefixes match on segment boundaries; `GET` opens `HEAD`; a request
 * whose host and path match only routes of other methods is "method not allowed" with their
 * methods; anything else is no route (default deny). And `locateRoute`, which canonicalises a raw
 * target and host first, places every spelling of a request under the route of its canonical
 * form, never throwing. Runs: test/fuzz/runs.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { canonicalHost } from '../../../src/core/policies/host.js';
import { canonicalTarget } from '../../../src/core/policies/request-target.js';
import {
  createRouteTable,
  locateRoute,
  type RouteLookup,
  type RoutePolicy,
} from '../../../src/core/policies/routes.js';

const route = (name: string, match: RoutePolicy['match']): RoutePolicy => ({
  name,
  match,
  upstream: null,
  stripPrefix: false,
  preserveHost: false,
  auth: ['anonymous'],
  scopes: [],
  rateLimit: null,
  forward: 'headers',
  audience: null,
  timeoutMs: null,
  responses: {},
});

const SEGMENTS = ['a', 'A', 'ab', 'b', 'data', 'Data', 'database', 'x'];
const canonicalPathArb = fc
  .tuple(fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 3 }), fc.boolean())
  .map(([parts, slash]) => (parts.length === 0 ? '/' : `/${parts.join('/')}${slash ? '/' : ''}`));
const HOSTS = ['api.example.com', 'www.example.com', 'example.com', 'a.b.example.com', 'other.test'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'];

const matchArb = fc.record({
  path: canonicalPathArb,
  exact: fc.boolean(),
  host: fc.option(fc.constantFrom('api.example.com', 'example.com', '*.example.com', '*.b.example.com'), { freq: 2 }),
  methods: fc.option(fc.uniqueArray(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), { minLength: 1 }), { freq: 2 }),
  caseSensitive: fc.boolean(),
});
const tableArb = fc
  .array(matchArb, { maxLength: 7 })
  .map((matches) => matches.map((match, i) => route(`r${i}`, match)));

/** The documented rules, written out plainly. */
function model(routes: readonly RoutePolicy[], method: string, host: string | null, path: string): RouteLookup {
  const hostRank = (pattern: string | null) => (pattern === null ? 0 : pattern.startsWith('*.') ? 1 : 2);
  const hostOk = (pattern: string | null) => {
    if (pattern === null) return true;
    if (host === null) return false;
    if (!pattern.startsWith('*.')) return pattern === host;
    const label = host.slice(0, host.length - pattern.length + 1);
    return host.endsWith(pattern.slice(1)) && label.length > 0 && !label.includes('.');
  };
  const pathOk = (match: RoutePolicy['match']) => {
    const fold = (text: string) => (match.caseSensitive ? text : text.toLowerCase());
    const [routePath, requestPath] = [fold(match.path), fold(path)];
    if (requestPath === routePath) return true;
    if (match.exact) return false;
    return requestPath.startsWith(routePath.endsWith('/') ? routePath : `${routePath}/`);
  };
  const allows = (methods: readonly string[] | null) =>
    methods === null || methods.includes(method) || (method === 'HEAD' && methods.includes('GET'));
  const candidates = routes
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => hostOk(r.match.host) && pathOk(r.match))
    .sort(
      (a, b) =>
        hostRank(b.r.match.host) - hostRank(a.r.match.host) ||
        b.r.match.path.length - a.r.match.path.length ||
        Number(b.r.match.exact) - Number(a.r.match.exact) ||
        a.index - b.index,
    );
  const winner = candidates.find(({ r }) => allows(r.match.methods));
  if (winner) return { kind: 'matched', route: winner.r };
  if (candidates.length === 0) return { kind: 'no_route' };
  const allowed = new Set<string>();
  for (const { r } of candidates) {
    for (const name of r.match.methods ?? []) {
      allowed.add(name);
      if (name === 'GET') allowed.add('HEAD');
    }
  }
  return { kind: 'method_not_allowed', allowed: [...allowed].sort() };
}

const requestPath = fc.oneof(
  canonicalPathArb,
  canonicalPathArb.map((path) => path.toUpperCase()),
  canonicalPathArb.map((path) => `${path}/x`.replace('//', '/')),
);

describe('route table lookup (fuzzed against the documented rules)', () => {
  it(
    'picks the route the rules pick, or answers method_not_allowed / no_route as they do',
    () => {
      fc.assert(
        fc.property(
          tableArb,
          fc.constantFrom(...METHODS),
          fc.option(fc.constantFrom(...HOSTS), { freq: 4 }),
          requestPath,
          (routes, method, host, path) => {
            const actual = createRouteTable(routes).lookup(method, host, path);
            const expected = model(routes, method, host, path);
            if (expected.kind === 'matched')
              expect(actual).toMatchObject({ kind: 'matched', route: { name: expected.route.name } });
            else expect(actual).toEqual(expected);
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );

  /** A raw target: a request path re-spelled with dot segments, doubled slashes, encodings, a query. */
  const rawTarget = fc
    .tuple(
      requestPath,
      fc.constantFrom('', '/.', '//', '/x/..', '/%2e', '/%2E%2E'),
      fc.constantFrom('', '?q=1', '?a=%2f', '#f', '?x#y'),
      fc.boolean(),
    )
    .map(([path, noise, tail, encodeA]) => `${noise}${encodeA ? path.replace('a', '%61') : path}${tail}`)
    .map((target) => (target.startsWith('/') ? target : `/${target}`));
  const rawHost = fc.constantFrom(
    ...HOSTS,
    'API.Example.COM',
    'api.example.com.',
    'api.example.com:8443',
    '[::1]:80',
    'a..b',
    'ex%61mple.com',
    '',
    'evil.com@api.example.com',
  );

  it(
    'places a raw request under the route of its canonical target and host, without throwing',
    () => {
      fc.assert(
        fc.property(tableArb, fc.constantFrom(...METHODS), rawTarget, rawHost, (routes, method, target, host) => {
          const table = createRouteTable(routes);
          const located = locateRoute(table, method, target, host);
          const canonical = canonicalTarget(target);
          if (!canonical.ok) {
            expect(located.kind).toBe('bad_target');
            return;
          }
          const hostName = canonicalHost(host);
          if (hostName === null) {
            expect(located.kind).toBe('bad_host');
            return;
          }
          expect(canonicalHost(hostName), host).toBe(hostName); // host canonicalisation is idempotent
          const expected = model(routes, method, hostName, canonical.path);
          expect(located.kind).toBe(expected.kind);
          if (located.kind === 'matched' && expected.kind === 'matched') {
            expect(located.route.name).toBe(expected.route.name);
            expect(located.path).toBe(canonical.path);
          }
        }),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});
