/**
 * The gateway with real credentials: HTTP Basic users and JWTs from /auth/login, through route
 * policies, with identity headers for the upstream and credentials stripped (docs/security.md #36);
 * scopes (403), optional authentication, and token translation (`forward: jwt`) verified by the
 * real SDK in the upstream, for the gateway and for forward auth. On every store.
 */
import { createVerifier } from '@gatehouse/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, createUser } from '../support/basic.js';
import { storeKinds, tempDir } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { httpsGet, makeSelfSignedCertificate, type TestCertificate } from '../support/tls.js';
import { type SeenRequest, startUpstream, type TestUpstream } from '../support/upstream.js';

const openssl = peer('openssl');
const itWithOpenssl = it.runIf(openssl.present);

describe.each(storeKinds())('gateway with Basic and JWT on %s', (kind) => {
  let server: TestServer;
  let upstream: TestUpstream;
  let alice: { id: string };
  let token: string;
  const password = 'correct horse battery staple';
  const lastSeen = (): SeenRequest => upstream.seen[upstream.seen.length - 1] as SeenRequest;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.proxyUrl}${path}`, { headers });

  beforeAll(async () => {
    upstream = await startUpstream();
    server = await startTestServer(kind, {
      // Basic over plain HTTP from loopback (the test client); TLS is covered below.
      env: { GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true' },
      routes: [
        { name: 'basic', match: { path: '/basic' }, upstream: upstream.url, auth: ['basic'], scopes: ['data:read'] },
        { name: 'jwt', match: { path: '/jwt' }, upstream: upstream.url, auth: ['jwt'] },
        { name: 'admin', match: { path: '/admin' }, upstream: upstream.url, auth: ['basic', 'jwt'], scopes: ['admin'] },
        { name: 'optional', match: { path: '/optional' }, upstream: upstream.url, auth: ['basic', 'anonymous'] },
        {
          name: 'translated',
          match: { path: '/translated' },
          upstream: upstream.url,
          auth: ['basic', 'jwt'],
          forward: 'jwt',
          audience: 'https://orders.internal',
        },
        { name: 'translated-fa', match: { path: '/fa' }, auth: ['basic', 'jwt'], forward: 'jwt' },
      ],
    });
    alice = await createUser(server, { username: 'alice', password, scopes: ['data:read'] });
    const login = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password }),
    });
    token = (await login.json()).access_token;
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('lets a Basic user through with identity headers, without the password', async () => {
    const response = await get('/basic/items', { authorization: basicHeader('alice', password) });
    expect(response.status).toBe(200);
    const seen = lastSeen();
    expect(seen.headers).toMatchObject({
      'x-auth-subject': alice.id,
      'x-auth-method': 'basic',
      'x-auth-scopes': 'data:read',
    });
    expect(seen.headers).not.toHaveProperty('authorization');
    expect(server.logs.join('')).not.toContain(password);
  });

  it('refuses a wrong password with 401 and the Basic challenge, before the upstream', async () => {
    const before = upstream.seen.length;
    const response = await get('/basic/items', { authorization: basicHeader('alice', 'wrong password!') });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="gatehouse"/);
    expect((await response.json()).type).toBe('urn:gatehouse:problem:unauthorized');
    const none = await get('/basic/items');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(upstream.seen.length).toBe(before);
  });

  it('lets a JWT through, and refuses a tampered one with invalid_token', async () => {
    const response = await get('/jwt/x', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(lastSeen().headers).toMatchObject({ 'x-auth-subject': alice.id, 'x-auth-method': 'jwt' });
    expect(lastSeen().headers).not.toHaveProperty('authorization');
    const tampered = await get('/jwt/x', { authorization: `Bearer ${token.slice(0, -4)}AAAA` });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('answers 403 insufficient_scope when a valid credential lacks the route’s scopes', async () => {
    const before = upstream.seen.length;
    for (const authorization of [basicHeader('alice', password), `Bearer ${token}`]) {
      const response = await get('/admin', { authorization });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", scope="admin"/);
      expect((await response.json()).type).toBe('urn:gatehouse:problem:forbidden');
    }
    expect(upstream.seen.length).toBe(before);
  });

  it('treats [basic, anonymous] as optional authentication: none passes, a bad one does not', async () => {
    expect((await get('/optional')).status).toBe(200);
    expect(lastSeen().headers['x-auth-method']).toBe('anonymous');
    expect((await get('/optional', { authorization: basicHeader('alice', password) })).status).toBe(200);
    expect(lastSeen().headers['x-auth-subject']).toBe(alice.id);
    expect((await get('/optional', { authorization: basicHeader('alice', 'nope nope nope') })).status).toBe(401);
  });

  it('reports the Basic and JWT verification caches in /metrics', async () => {
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    for (const cache of ['basic', 'jwt']) {
      expect(
        Number(
          new RegExp(`gatehouse_cache_lookups_total\\{cache="${cache}",result="hit"\\} (\\d+)`).exec(metrics)?.[1],
        ),
      ).toBeGreaterThan(0);
      expect(metrics).toMatch(new RegExp(`gatehouse_cache_entries\\{cache="${cache}"\\} [1-9]`));
    }
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="gateway",route="basic",mechanism="basic",outcome="allowed"\} \d+/,
    );
  });

  describe('token translation (forward: jwt)', () => {
    const verifierFor = (audience: string) =>
      createVerifier({ issuer: server.running.services.tokens.identity.issuer, audience });

    it('gives the upstream one JWT, whatever the caller presented, that the SDK verifies', async () => {
      const verifier = verifierFor('https://orders.internal');
      for (const [method, authorization] of [
        ['basic', basicHeader('alice', password)],
        ['jwt', `Bearer ${token}`],
      ] as const) {
        const response = await get('/translated/orders', { authorization });
        expect(response.status).toBe(200);
        const forwarded = String(lastSeen().headers.authorization);
        expect(forwarded).toMatch(/^Bearer ey/);
        expect(forwarded).not.toBe(authorization);
        const identity = await verifier.verify(forwarded.slice('Bearer '.length), { scopes: ['data:read'] });
        expect(identity.subject, method).toBe(alice.id);
        const claims = JSON.parse(Buffer.from(forwarded.split('.')[1] as string, 'base64url').toString());
        expect(claims.exp - claims.iat).toBe(60);
        expect(claims.aud).toBe('https://orders.internal');
      }
    });

    it('reuses a caller’s translated token instead of signing one per request', async () => {
      await get('/translated/a', { authorization: basicHeader('alice', password) });
      const first = lastSeen().headers.authorization;
      await get('/translated/b', { authorization: basicHeader('alice', password) });
      expect(lastSeen().headers.authorization).toBe(first);
    });

    it('makes tokens no other audience accepts: not the gateway, not Gatehouse itself', async () => {
      await get('/translated/x', { authorization: basicHeader('alice', password) });
      const translated = String(lastSeen().headers.authorization);
      await expect(verifierFor('another-route').verify(translated.slice(7))).rejects.toMatchObject({
        code: 'ERR_JWT_AUDIENCE',
      });
      const replayed = await get('/jwt/x', { authorization: translated });
      expect(replayed.status).toBe(401);
      const atGatehouse = await fetch(`${server.publicUrl}/auth/verify`, {
        headers: { authorization: translated, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/jwt/x' },
      });
      expect(atGatehouse.status).toBe(401);
    });

    it('answers forward auth with the translated token, for the proxy to pass on', async () => {
      const response = await fetch(`${server.publicUrl}/auth/verify`, {
        headers: {
          authorization: basicHeader('alice', password),
          'x-forwarded-method': 'GET',
          'x-forwarded-uri': '/fa/x',
        },
      });
      expect(response.status).toBe(200);
      const bearer = String(response.headers.get('authorization'));
      const identity = await verifierFor('translated-fa').verify(bearer.slice('Bearer '.length));
      expect(identity.subject).toBe(alice.id);
      expect(response.headers.get('x-auth-subject')).toBe(alice.id);
    });
  });
});

describe('gateway transport: its own TLS, and trusted proxies in front of it', () => {
  const dir = tempDir();
  let certificate: TestCertificate;
  const password = 'correct horse battery staple';
  let upstream: TestUpstream;
  beforeAll(async () => {
    if (openssl.present) certificate = makeSelfSignedCertificate(dir.path);
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
    dir.remove();
  });
  const routes = () => [
    { name: 'basic', match: { path: '/basic' }, upstream: upstream.url, auth: ['basic'] },
    { name: 'api', match: { path: '/', host: 'api.example.test' }, upstream: upstream.url, auth: ['anonymous'] },
  ];

  itWithOpenssl('serves the gateway over HTTPS when tls is configured, where Basic is accepted', async () => {
    const server = await startTestServer('sqlite', {
      env: { GATEHOUSE_TLS_CERT: certificate.certFile, GATEHOUSE_TLS_KEY_FILE: certificate.keyFile },
      routes: routes(),
    });
    try {
      expect(server.proxyUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await createUser(server, { username: 'bob', password });
      const response = await httpsGet(`${server.proxyUrl}/basic/x`, certificate.cert, {
        authorization: basicHeader('bob', password),
      });
      expect(response.status).toBe(200);
      const seen = upstream.seen[upstream.seen.length - 1] as SeenRequest;
      expect(seen.headers['x-auth-method']).toBe('basic');
      expect(seen.headers['x-forwarded-proto']).toBe('https');
    } finally {
      await server.stop();
    }
  });

  it('believes X-Forwarded-For/-Proto/-Host only from trust_proxy, for routing and for the upstream', async () => {
    const forwarded = {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.test',
    };
    const trusting = await startTestServer('sqlite', { env: { GATEHOUSE_TRUST_PROXY: 'loopback' }, routes: routes() });
    try {
      expect((await fetch(`${trusting.proxyUrl}/anything`, { headers: forwarded })).status).toBe(200);
      const seen = upstream.seen[upstream.seen.length - 1] as SeenRequest;
      expect(seen.headers).toMatchObject({
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'api.example.test',
      });
    } finally {
      await trusting.stop();
    }
    const untrusting = await startTestServer('sqlite', { routes: routes() });
    try {
      // Without trust_proxy the client's X-Forwarded-Host cannot pick the api.example.test route.
      expect((await fetch(`${untrusting.proxyUrl}/anything`, { headers: forwarded })).status).toBe(404);
    } finally {
      await untrusting.stop();
    }
  });
});
