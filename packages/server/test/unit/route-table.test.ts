/** Route matching: host, path on segment boundaries, methods, specificity, default deny. */
import { describe, expect, it } from 'vitest';
import { canonicalHost, hostMatches } from '../../src/core/policies/host.js';
import { createRouteTable, type RoutePolicy, strippedPath } from '../../src/core/policies/routes.js';

const route = (name: string, match: Partial<RoutePolicy['match']>, extra: Partial<RoutePolicy> = {}): RoutePolicy => ({
  name,
  match: { path: '/', exact: false, host: null, methods: null, caseSensitive: true, ...match },
  upstream: 'http://127.0.0.1:1',
  stripPrefix: false,
  preserveHost: false,
  auth: ['anonymous'],
  scopes: [],
  rateLimit: null,
  forward: 'headers',
  audience: null,
  timeoutMs: null,
  responses: {},
  ...extra,
});

const matched = (table: ReturnType<typeof createRouteTable>, method: string, host: string | null, path: string) => {
  const result = table.lookup(method, host, path);
  return result.kind === 'matched' ? result.route.name : result.kind;
};

describe('route table', () => {
  it('matches prefixes on segment boundaries only', () => {
    const table = createRouteTable([route('data', { path: '/data' })]);
    expect(matched(table, 'GET', null, '/data')).toBe('data');
    expect(matched(table, 'GET', null, '/data/')).toBe('data');
    expect(matched(table, 'GET', null, '/data/x/y')).toBe('data');
    expect(matched(table, 'GET', null, '/database')).toBe('no_route');
    expect(matched(table, 'GET', null, '/')).toBe('no_route');
  });

  it('matches exact paths exactly, and a trailing slash route only below it', () => {
    const table = createRouteTable([route('exact', { path: '/health', exact: true }), route('dir', { path: '/dir/' })]);
    expect(matched(table, 'GET', null, '/health')).toBe('exact');
    expect(matched(table, 'GET', null, '/health/')).toBe('no_route');
    expect(matched(table, 'GET', null, '/health/x')).toBe('no_route');
    expect(matched(table, 'GET', null, '/dir/x')).toBe('dir');
    expect(matched(table, 'GET', null, '/dir')).toBe('no_route');
  });

  it('is case-sensitive unless a route opts out', () => {
    const table = createRouteTable([
      route('admin', { path: '/admin' }),
      route('files', { path: '/files', caseSensitive: false }),
    ]);
    expect(matched(table, 'GET', null, '/ADMIN')).toBe('no_route');
    expect(matched(table, 'GET', null, '/Admin/x')).toBe('no_route');
    expect(matched(table, 'GET', null, '/FILES/Report.PDF')).toBe('files');
  });

  it('picks the most specific route whatever the order in the file', () => {
    const table = createRouteTable([
      route('catch-all', { path: '/' }),
      route('admin', { path: '/admin' }),
      route('admin-users', { path: '/admin/users' }),
      route('exact-admin', { path: '/admin', exact: true }),
      route('api-host', { path: '/', host: 'api.example.com' }),
      route('wild-host', { path: '/admin', host: '*.example.com' }),
    ]);
    expect(matched(table, 'GET', 'other.test', '/x')).toBe('catch-all');
    expect(matched(table, 'GET', 'other.test', '/admin/x')).toBe('admin');
    expect(matched(table, 'GET', 'other.test', '/admin')).toBe('exact-admin');
    expect(matched(table, 'GET', 'other.test', '/admin/users/1')).toBe('admin-users');
    expect(matched(table, 'GET', 'api.example.com', '/admin/users')).toBe('api-host');
    expect(matched(table, 'GET', 'www.example.com', '/admin/users')).toBe('wild-host');
    expect(matched(table, 'GET', null, '/admin/users')).toBe('admin-users');
  });

  it('skips routes whose methods do not match, and says which would', () => {
    const table = createRouteTable([route('read', { path: '/data', methods: ['GET'] })]);
    expect(matched(table, 'GET', null, '/data')).toBe('read');
    expect(matched(table, 'HEAD', null, '/data')).toBe('read');
    expect(table.lookup('DELETE', null, '/data')).toEqual({ kind: 'method_not_allowed', allowed: ['GET', 'HEAD'] });
    const withFallback = createRouteTable([
      route('read', { path: '/data', methods: ['GET'] }),
      route('write', { path: '/', methods: ['POST', 'DELETE'] }),
    ]);
    expect(matched(withFallback, 'DELETE', null, '/data')).toBe('write');
    expect(matched(withFallback, 'get', null, '/data')).toBe('method_not_allowed');
  });

  it('denies everything when there are no routes (default deny)', () => {
    expect(createRouteTable([]).lookup('GET', 'a', '/')).toEqual({ kind: 'no_route' });
  });

  it('strips the matched prefix for strip_prefix routes', () => {
    const data = route('data', { path: '/data' }, { stripPrefix: true });
    expect(strippedPath(data, '/data')).toBe('/');
    expect(strippedPath(data, '/data/x/y')).toBe('/x/y');
    expect(strippedPath(route('d2', { path: '/data/' }, { stripPrefix: true }), '/data/x')).toBe('/x');
    expect(strippedPath(route('d3', { path: '/data' }), '/data/x')).toBe('/data/x');
  });
});

describe('hosts', () => {
  it('canonicalises case, ports and one trailing dot; refuses what is not a host', () => {
    expect(canonicalHost('API.Example.COM')).toBe('api.example.com');
    expect(canonicalHost('api.example.com.')).toBe('api.example.com');
    expect(canonicalHost('api.example.com.:8443')).toBe('api.example.com');
    expect(canonicalHost('127.0.0.1:4002')).toBe('127.0.0.1');
    expect(canonicalHost('[::1]:4002')).toBe('[::1]');
    for (const bad of ['api.example.com..', '.example.com', 'a..b', 'a b', 'user@host', 'host%2e', '', ':80', 'h:x']) {
      expect(canonicalHost(bad), bad).toBeNull();
    }
  });

  it('matches one label for *. patterns', () => {
    expect(hostMatches('*.example.com', 'api.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'evilexample.com')).toBe(false);
    expect(hostMatches('api.example.com', 'api.example.com')).toBe(true);
  });
});
