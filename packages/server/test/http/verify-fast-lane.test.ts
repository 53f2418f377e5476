/**
 * `/auth/verify` has two doors (src/http/public/verify.ts): a fast lane in front of Fastify's
 * router takes GET and HEAD without a body and answers in-memory decisions itself; everything
 * else, and every decision that needs the store, goes through the Fastify route. They must never
 * disagree. This test sends each request twice — as GET (the lane) and as a body-less POST (the
 * router; no mechanism looks at the verify request's own method) — and compares status, headers
 * and body, over credentials of every kind, good and bad, with and without routes, and with
 * `trust_proxy` deciding whether Basic came over HTTPS. The `door` field of the log lines proves
 * which door answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueKey } from '../support/api-keys.js';
import { createUser } from '../support/basic.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Case = readonly [label: string, headers: Array<[string, string]>, query?: string];

/** Status, headers (without the per-response ones) and body, for comparison. */
async function exchange(server: TestServer, method: string, headers: Array<[string, string]>, query = '') {
  // Node's client would frame a body-less POST as an empty chunked body; say "no body" plainly.
  const framing: Array<[string, string]> = method === 'POST' ? [['content-length', '0']] : [];
  const response = await rawRequest(`${server.publicUrl}/auth/verify${query}`, {
    method,
    headers: [...headers, ...framing],
  });
  const { date, connection, 'keep-alive': _keepAlive, ...kept } = response.headers;
  // Each request spends from the limit, and the reset time may tick between the two.
  for (const counting of ['ratelimit-remaining', 'ratelimit-reset']) if (kept[counting]) kept[counting] = '(counted)';
  return { status: response.status, headers: kept, body: response.body };
}

async function expectSameAnswers(server: TestServer, cases: readonly Case[]) {
  for (const [label, headers, query] of cases) {
    const lane = await exchange(server, 'GET', headers, query);
    const router = await exchange(server, 'POST', headers, query);
    expect(lane, label).toEqual(router);
  }
}

const basic = (user: string, password: string): [string, string] => [
  'authorization',
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
];

describe('the fast lane and the router answer /auth/verify alike', () => {
  describe('without routes', () => {
    let server: TestServer;
    let key: string;
    let scopedKey: string;
    let revokedKey: string;
    let token: string;

    beforeAll(async () => {
      server = await startTestServer('sqlite', { env: { GATEHOUSE_DEV: 'true', GATEHOUSE_LOG_LEVEL: 'debug' } });
      key = (await issueKey(server, { owner: 'svc-orders', scopes: ['orders:read'] })).key;
      scopedKey = (await issueKey(server, { scopes: ['a', 'b'], rate_limit: '1000/minute' })).key;
      const revoked = await issueKey(server);
      revokedKey = revoked.key;
      expect((await server.admin('DELETE', `/admin/v1/api-keys/${revoked.id}`)).status).toBeLessThan(300);
      await createUser(server, { username: 'alice', password: 'correct horse battery', scopes: ['read'] });
      const login = await fetch(`${server.publicUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'correct horse battery' }),
      });
      token = (await login.json()).access_token;
    });
    afterAll(async () => server?.stop());

    it('agrees on every kind of credential, good and bad', async () => {
      await expectSameAnswers(server, [
        ['no credential', []],
        ['api key', [['x-api-key', key]]],
        ['api key, scope held', [['x-api-key', key]], '?scope=orders:read'],
        ['api key, scope missing', [['x-api-key', key]], '?scope=orders:write'],
        ['api key with rate-limit headers', [['x-api-key', scopedKey]], '?scope=a+b'],
        ['revoked key', [['x-api-key', revokedKey]]],
        ['unknown key', [['x-api-key', `${key.slice(0, -8)}AAAAAAAA`]]],
        ['malformed key', [['x-api-key', 'not a key']]],
        [
          'key twice',
          [
            ['x-api-key', key],
            ['X-API-Key', key],
          ],
        ],
        ['jwt', [['authorization', `Bearer ${token}`]]],
        ['jwt, tampered', [['authorization', `Bearer ${token.slice(0, -4)}AAAA`]]],
        ['basic', [basic('alice', 'correct horse battery')]],
        ['basic, wrong password', [basic('alice', 'wrong')]],
        ['scope given twice', [['x-api-key', key]], '?scope=orders:read&scope=orders:read'],
      ]);
    });

    it('answers a repeated scope parameter with 400 instead of ignoring it', async () => {
      const response = await exchange(server, 'GET', [['x-api-key', key]], '?scope=orders:write&scope=orders:write');
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).error).toBe('invalid_request');
    });

    it('takes GET and HEAD in the lane and leaves bodies, other methods and Envoy paths to the router', async () => {
      const doors = () =>
        server.logs.filter((line) => line.includes('"msg":"allowed"')).map((line) => JSON.parse(line).door as string);
      const before = doors().length;
      await exchange(server, 'GET', [['x-api-key', key]]);
      await exchange(server, 'HEAD', [['x-api-key', key]]);
      await exchange(server, 'POST', [['x-api-key', key]]);
      await rawRequest(`${server.publicUrl}/auth/verify`, {
        headers: [
          ['x-api-key', key],
          ['content-type', 'text/plain'],
          ['content-length', '1'],
        ],
        body: 'x',
      });
      expect(doors().slice(before)).toEqual(['fast_lane', 'fast_lane', 'router', 'router']);
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const head = await exchange(server, 'HEAD', [['x-api-key', key]]);
      const get = await exchange(server, 'GET', [['x-api-key', key]]);
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers).toEqual(get.headers);
    });

    it('hands decisions that need the store to the router, which finishes them', async () => {
      // A key never seen by this instance is looked up in the store: the lane cannot answer it.
      const fresh = (await issueKey(server, { owner: 'fresh' })).key;
      const lookups = server.running.services.apiKeys.stats().lookups;
      const response = await exchange(server, 'GET', [['x-api-key', fresh]]);
      expect(response.status).toBe(200);
      expect(response.headers['x-auth-subject']).toBe('fresh');
      expect(server.running.services.apiKeys.stats().lookups).toBe(lookups + 1);
      const last = server.logs.filter((line) => line.includes('"msg":"allowed"')).at(-1) as string;
      expect(JSON.parse(last)).toMatchObject({ subject: 'fresh', door: 'router' });
      // Seen once, the key is answered in the lane from then on.
      await exchange(server, 'GET', [['x-api-key', fresh]]);
      const next = server.logs.filter((line) => line.includes('"msg":"allowed"')).at(-1) as string;
      expect(JSON.parse(next)).toMatchObject({ subject: 'fresh', door: 'fast_lane' });
    });
  });

  describe('with routes', () => {
    let server: TestServer;
    let key: string;

    beforeAll(async () => {
      server = await startTestServer('sqlite', {
        routes: [
          { name: 'public', match: { path: '/public' }, auth: ['anonymous'] },
          { name: 'orders', match: { path: '/orders' }, auth: ['apikey'], scopes: ['orders:read'] },
          { name: 'limited', match: { path: '/limited' }, auth: ['apikey', 'anonymous'], rate_limit: '2/minute' },
          { name: 'open', match: { path: '/open' }, auth: ['anonymous'], rate_limit: '5/minute' },
          {
            name: 'custom',
            match: { path: '/custom' },
            auth: ['apikey'],
            responses: { 401: { error: 'Unauthorized' }, 403: { error: 'Forbidden' } },
          },
        ],
      });
      key = (await issueKey(server, { owner: 'svc', scopes: ['orders:read'] })).key;
    });
    afterAll(async () => server?.stop());

    const asked = (method: string, uri: string, more: Array<[string, string]> = []): Array<[string, string]> => [
      ['x-forwarded-method', method],
      ['x-forwarded-uri', uri],
      ...more,
    ];

    it('agrees on routes, default deny, custom bodies, rate limits and bad descriptions', async () => {
      await expectSameAnswers(server, [
        ['anonymous route', asked('GET', '/public/x')],
        ['protected, no key', asked('GET', '/orders/1')],
        ['protected, key', asked('GET', '/orders/1', [['x-api-key', key]])],
        ['custom 401', asked('GET', '/custom')],
        ['no route', asked('GET', '/nowhere')],
        ['path trick', asked('GET', '/public/../orders')],
        ['encoded slash', asked('GET', '/public/..%2Forders')],
        ['descriptions disagree', [...asked('GET', '/public'), ['x-original-uri', '/orders']]],
        ['no description', []],
        ['bad host', asked('GET', '/public', [['x-forwarded-host', 'a,b']])],
      ]);
      // Both doors count against the same limit: 2 per minute, then 429 from either.
      const first = await exchange(server, 'GET', asked('GET', '/limited', [['x-api-key', key]]));
      const second = await exchange(server, 'POST', asked('GET', '/limited', [['x-api-key', key]]));
      const third = await exchange(server, 'GET', asked('GET', '/limited', [['x-api-key', key]]));
      const fourth = await exchange(server, 'POST', asked('GET', '/limited', [['x-api-key', key]]));
      expect([first.status, second.status, third.status, fourth.status]).toEqual([200, 200, 429, 429]);
      expect(third).toEqual(fourth);
    });

    it('sends a rate-limited route’s RateLimit headers with an anonymous pass, from both doors', async () => {
      // (exchange() writes the counters that change per request as "(counted)".)
      const lane = await exchange(server, 'GET', asked('GET', '/open'));
      const router = await exchange(server, 'POST', asked('GET', '/open'));
      for (const answer of [lane, router]) {
        expect(answer.status).toBe(200);
        expect(answer.headers).toMatchObject({
          'x-auth-method': 'anonymous',
          'ratelimit-limit': '5',
          'ratelimit-remaining': '(counted)',
          'ratelimit-policy': '5;w=60',
        });
      }
    });
  });

  describe('behind a trusted proxy', () => {
    let server: TestServer;

    beforeAll(async () => {
      // Plain HTTP from loopback refused (the harness allows it), so the proto headers decide.
      server = await startTestServer('sqlite', {
        env: { GATEHOUSE_TRUST_PROXY: '127.0.0.1/32,::1', GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false' },
      });
      await createUser(server, { username: 'bob', password: 'bob password 123' });
    });
    afterAll(async () => server?.stop());

    it('reads X-Forwarded-Proto and -For as Fastify does', async () => {
      const credential = basic('bob', 'bob password 123');
      await expectSameAnswers(server, [
        ['basic over forwarded https', [credential, ['x-forwarded-proto', 'https']]],
        ['basic over forwarded http', [credential, ['x-forwarded-proto', 'http']]],
        ['basic, last proto entry wins', [credential, ['x-forwarded-proto', 'http, https']]],
        ['basic without proto', [credential]],
        [
          'wrong password from a forwarded client',
          [basic('bob', 'nope'), ['x-forwarded-proto', 'https'], ['x-forwarded-for', '203.0.113.9']],
        ],
      ]);
      const allowed = await exchange(server, 'GET', [credential, ['x-forwarded-proto', 'https']]);
      expect(allowed.status).toBe(200);
      const refused = await exchange(server, 'GET', [credential]);
      expect(refused.status).not.toBe(200);
    });
  });
});
