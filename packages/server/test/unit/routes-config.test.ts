/** The `routes` section: valid routes parse; every problem is one line naming the route and field. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { loadConfigWithRoutes, parseRateLimit, parseRoutes } from '../../src/config/routes.js';
import { tempDir } from '../support/databases.js';

const context = { enabledMethods: ['apikey', 'jwt', 'basic'] };
const problemsOf = (raw: unknown, ctx = context): string[] => {
  const parsed = parseRoutes(raw, ctx);
  return parsed.ok ? [] : parsed.problems;
};

describe('parseRoutes', () => {
  it('parses a complete route with its defaults', () => {
    const parsed = parseRoutes(
      [
        {
          name: 'data',
          match: { path: '/data', methods: ['get', 'POST'], host: 'API.example.com.' },
          upstream: 'http://127.0.0.1:5000/base/',
          auth: ['apikey', 'basic'],
          scopes: ['data:read'],
          rate_limit: '100/minute',
          timeout: '5s',
          responses: { 401: { error: 'Unauthorized' } },
        },
        { name: 'public', match: { path: '/public', exact: true }, auth: ['anonymous'] },
        { name: 'any', match: { path: '/any' } },
      ],
      context,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.routes[0]).toEqual({
      name: 'data',
      match: { path: '/data', exact: false, host: 'api.example.com', methods: ['GET', 'POST'], caseSensitive: true },
      upstream: 'http://127.0.0.1:5000/base',
      stripPrefix: false,
      preserveHost: false,
      auth: ['apikey', 'basic'],
      scopes: ['data:read'],
      rateLimit: { limit: 100, windowMs: 60_000 },
      forward: 'headers',
      audience: null,
      timeoutMs: 5000,
      responses: { 401: { error: 'Unauthorized' } },
      stripHeaders: [],
    });
    expect(parsed.routes[1]?.match.exact).toBe(true);
    // Without `auth`, a route accepts every enabled mechanism (never anonymous).
    expect(parsed.routes[2]?.auth).toEqual(['apikey', 'jwt', 'basic']);
  });

  it('reports one line per problem, naming the route index and the field', () => {
    const problems = problemsOf([
      { name: 'bad path', match: { path: 'data' }, auth: ['apikey'] },
      { name: 'ok', match: { path: '/x/../y', methods: 'GET' }, auth: ['kerberos'], upstream: 'ftp://x' },
      {
        name: 'ok2',
        match: { path: '/z', hots: 'a' },
        scope: ['x'],
        rate_limit: 'lots',
        forward: 'jwtt',
        audience: 'x',
      },
      { match: { path: '/w%2fx', host: 'a.com:80' }, auth: ['anonymous'], scopes: ['x'] },
      'not a mapping',
    ]);
    expect(problems).toEqual([
      'routes[0].name: must be 1-64 letters, digits, ".", "_" or "-" (starting with a letter or digit), got "bad path"',
      'routes[0].match.path: must start with "/", got "data"',
      'routes[1].match.path: must be written in canonical form, "/y", got "/x/../y"',
      'routes[1].match.methods: must be a non-empty list such as [GET, POST], got "GET"',
      'routes[1].upstream: must use http or https, got "ftp://x"',
      'routes[1].auth: has an unknown mechanism "kerberos"; allowed: apikey, jwt, basic, anonymous',
      'routes[2].scope: is not a known field (did you mean "scopes"?)',
      'routes[2].match.hots: is not a known field (did you mean "host"?)',
      'routes[2].rate_limit: must be a rate such as 100/minute, 10/s, 5000/hour or 300/15m, got "lots"',
      'routes[2].forward: must be headers or jwt, got "jwtt"',
      'routes[2].audience: only applies to translated tokens (forward: jwt)',
      'routes[3].name: is required (a short unique name such as "orders")',
      'routes[3].match.path: it contains an encoded slash or backslash (%2F, %5C), got "/w%2fx"',
      'routes[3].match.host: must be a host name such as api.example.com or *.example.com (no port), got "a.com:80"',
      'routes[3].scopes: a route that admits anonymous callers cannot require scopes (they have none)',
      'routes[4]: must be a mapping with name, match, auth…, got "not a mapping"',
    ]);
  });

  it('refuses mechanisms that are not enabled, duplicate names and routes that shadow each other', () => {
    expect(
      problemsOf([{ name: 'a', match: { path: '/a' }, auth: ['basic'] }], { ...context, enabledMethods: ['apikey'] }),
    ).toEqual(['routes[0].auth: names basic, which is not enabled in auth.methods (apikey)']);
    expect(
      problemsOf([
        { name: 'a', match: { path: '/a', methods: ['GET'] } },
        { name: 'a', match: { path: '/b' } },
        { name: 'c', match: { path: '/a', methods: ['POST', 'GET'] } },
        { name: 'd', match: { path: '/a', methods: ['DELETE'] } },
      ]),
    ).toEqual([
      'routes[1].name: "a" is already used by routes[0]',
      'routes[2].match: covers the same requests as routes[0] ("a"), so one of them would never be used',
    ]);
  });

  it('accepts an empty or missing section and refuses a non-list', () => {
    expect(parseRoutes(null, context)).toEqual({ ok: true, routes: [] });
    expect(parseRoutes([], context)).toEqual({ ok: true, routes: [] });
    expect(problemsOf({ name: 'a' })).toEqual(['routes: must be a list of routes, got {"name":"a"}']);
  });

  it('parses rate limits', () => {
    expect(parseRateLimit('100/minute')).toEqual({ ok: true, value: { limit: 100, windowMs: 60_000 } });
    expect(parseRateLimit('10/s')).toEqual({ ok: true, value: { limit: 10, windowMs: 1000 } });
    expect(parseRateLimit('20/30s')).toEqual({ ok: true, value: { limit: 20, windowMs: 30_000 } });
    expect(parseRateLimit('5000 / hour')).toEqual({ ok: true, value: { limit: 5000, windowMs: 3_600_000 } });
    for (const bad of ['0/minute', '10/fortnight', '10', 10, '-1/s', '1/0s'])
      expect(parseRateLimit(bad).ok, String(bad)).toBe(false);
  });
});

describe('loadConfigWithRoutes', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('reads routes from the YAML file, or null when the file has none', () => {
    const file = path.join(dir.path, 'with.yaml');
    writeFileSync(
      file,
      'routes:\n  - name: data\n    match: { path: /data }\n    auth: [anonymous]\n    responses:\n      401: { error: Unauthorized }\n',
    );
    const loaded = loadConfigWithRoutes({ file, env: {} });
    expect(loaded.routes?.map((route) => route.name)).toEqual(['data']);
    expect(loaded.routes?.[0]?.responses).toEqual({ 401: { error: 'Unauthorized' } });
    const without = path.join(dir.path, 'without.yaml');
    writeFileSync(without, 'log:\n  level: warn\n');
    expect(loadConfigWithRoutes({ file: without, env: {} }).routes).toBeNull();
  });

  it('throws a ConfigError listing every route problem', () => {
    const file = path.join(dir.path, 'bad.yaml');
    writeFileSync(file, 'routes:\n  - name: a\n    match: { path: nope }\n  - name: b\n');
    try {
      loadConfigWithRoutes({ file, env: {} });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'routes[0].match.path: must start with "/", got "nope"',
        'routes[1].match: is required (at least { path: /something })',
      ]);
    }
  });
});
