/**
 * The nginx and Caddy examples, for real: Debian's binaries run the configs from examples/
 * (ports swapped for ephemeral ones) in front of a small upstream, with Gatehouse running
 * examples/gatehouse.yaml as the auth server. What a client of the proxy sees, and what reaches
 * the app (docs/security.md #36: only a positive decision passes; identity headers come from
 * Gatehouse, never from the client).
 */
import path from 'node:path';
import { createVerifier } from '@gatehouse/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { EXAMPLES, freePort, type RunningProxy, startCaddy, startNginx } from '../support/proxies.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const PROXIES = [
  ['nginx', startNginx, peer('nginx')],
  ['caddy', startCaddy, peer('caddy')],
] as const;
const anyProxy = PROXIES.some(([, , binary]) => binary.present);

describe.runIf(anyProxy).each(storeKinds())('forward auth behind real proxies, on %s', (kind) => {
  let gatehouse: TestServer;
  let upstream: TestUpstream;
  let alice: { id: string };
  let token: string;
  let adminKey: string;
  const password = 'correct horse battery staple';
  beforeAll(async () => {
    upstream = await startUpstream();
    gatehouse = await startTestServer(kind, {
      configFile: path.join(EXAMPLES, 'gatehouse.yaml'),
      // The proxies reach Gatehouse over loopback HTTP, as a sidecar would.
      env: { GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true' },
    });
    alice = await createUser(gatehouse, { username: 'alice', password, scopes: ['data:read'] });
    await createUser(gatehouse, { username: 'bob', password });
    const issued = await gatehouse.admin('POST', '/admin/v1/api-keys', {
      name: 'ops',
      owner: 'ops',
      scopes: ['admin'],
    });
    adminKey = issued.body.key;
    const login = await fetch(`${gatehouse.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password }),
    });
    token = (await login.json()).access_token;
  });
  afterAll(async () => {
    await gatehouse?.stop();
    await upstream?.close();
  });

  for (const [name, start, binary] of PROXIES) {
    describe.runIf(binary.present)(name, () => behind(name, start));
  }

  function behind(name: (typeof PROXIES)[number][0], start: (typeof PROXIES)[number][1]): void {
    let proxy: RunningProxy;
    beforeAll(async () => {
      proxy = await start({
        listen: await freePort(),
        gatehouse: Number(new URL(gatehouse.publicUrl).port),
        app: upstream.port,
      });
    });
    afterAll(async () => proxy?.stop());

    const lastSeenBy = (before: number) => {
      expect(upstream.seen.length, proxy.output()).toBe(before + 1);
      return upstream.seen[before];
    };

    it('lets an anonymous route through with X-Auth-Method: anonymous, dropping client-sent identity', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/public/hello?x=1`, {
        headers: { 'x-auth-subject': 'admin', 'x-auth-scopes': 'admin', 'x-auth-method': 'apikey' },
      });
      expect(response.status, proxy.output()).toBe(200);
      const seen = lastSeenBy(before);
      expect(seen?.url).toBe('/public/hello?x=1');
      expect(seen?.headers['x-auth-method']).toBe('anonymous');
      // Absent (nginx drops empty values) or empty (Caddy copies Gatehouse's empty header).
      expect(seen?.headers['x-auth-subject'] ?? '').toBe('');
      expect(seen?.headers['x-auth-scopes'] ?? '').toBe('');
    });

    it('drops client-sent identity headers that upstream frameworks trust (docs/gateway.md)', async () => {
      // The headers the examples clear; nginx cannot match a prefix, so each is named.
      const identity = [
        'x-user-id',
        'x-user',
        'x-user-email',
        'x-user-name',
        'x-user-roles',
        'x-user-groups',
        'x-forwarded-user',
        'x-forwarded-email',
        'x-forwarded-groups',
        'x-forwarded-preferred-username',
        'x-remote-user',
        'x-remote-group',
        'remote-user',
        'remote-groups',
        'remote-email',
        'remote-name',
        'x-auth-request-user',
        'x-auth-request-email',
        'x-auth-request-groups',
        'x-auth-request-preferred-username',
        'x-authenticated-user',
        'x-authenticated-userid',
        'x-authenticated-groups',
        'x-webauth-user',
      ];
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/public/hello`, {
        headers: Object.fromEntries(identity.map((header) => [header, 'admin'])),
      });
      expect(response.status, proxy.output()).toBe(200);
      const seen = lastSeenBy(before);
      for (const header of identity) expect(seen?.headers, `${name}: ${header}`).not.toHaveProperty(header);
    });

    it('lets a valid credential through with Gatehouse’s identity headers and without the credential', async () => {
      for (const [method, authorization] of [
        ['basic', basicHeader('alice', password)],
        ['jwt', `Bearer ${token}`],
      ] as const) {
        const before = upstream.seen.length;
        const response = await fetch(`${proxy.url}/data/items?page=2`, {
          headers: { authorization, 'x-auth-subject': 'admin' },
        });
        expect(response.status, `${method}: ${proxy.output()}`).toBe(200);
        const seen = lastSeenBy(before);
        expect(seen?.url).toBe('/data/items?page=2');
        expect(seen?.headers).toMatchObject({
          'x-auth-subject': alice.id,
          'x-auth-method': method,
          'x-auth-scopes': 'data:read',
        });
        expect(seen?.headers).not.toHaveProperty('authorization');
      }
    });

    it('denies a protected route without credentials, with the challenge, and the app never sees the request', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/data/items`);
      expect(response.status).toBe(401);
      // One challenge per accepted mechanism; nginx passes on only the first of them.
      expect(response.headers.get('www-authenticate')).toMatch(
        name === 'nginx' ? /^ApiKey realm="gatehouse"/ : /Basic realm="gatehouse"/,
      );
      expect(await response.json()).toEqual({ error: 'Unauthorized' });
      // Gatehouse's denial marker reaches the client (docs/existing-service.md).
      expect(response.headers.get('x-gatehouse-denied')).toBe('unauthorized');
      const wrong = await fetch(`${proxy.url}/data/items`, {
        headers: { authorization: basicHeader('alice', 'nope nope') },
      });
      expect(wrong.status).toBe(401);
      expect(upstream.seen.length).toBe(before);
    });

    it('lets an API key with the admin scope into the admin route, without the key', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/admin/users`, { headers: { 'x-api-key': adminKey } });
      expect(response.status, proxy.output()).toBe(200);
      const seen = lastSeenBy(before);
      expect(seen?.headers).toMatchObject({
        'x-auth-subject': 'ops',
        'x-auth-method': 'apikey',
        'x-auth-scopes': 'admin',
      });
      expect(seen?.headers).not.toHaveProperty('x-api-key');
      const wrong = await fetch(`${proxy.url}/admin/users`, { headers: { 'x-api-key': `${adminKey.slice(0, -2)}xx` } });
      expect(wrong.status).toBe(401);
      expect(upstream.seen.length).toBe(before + 1);
    });

    it('hands the app the translated JWT on a forward: jwt route, which the SDK verifies', async () => {
      const verifier = createVerifier({
        issuer: gatehouse.running.services.tokens.identity.issuer,
        audience: 'reports',
      });
      for (const headers of <Array<Record<string, string>>>[
        { authorization: basicHeader('alice', password) },
        { authorization: `Bearer ${token}` },
        { 'x-api-key': adminKey },
      ]) {
        const before = upstream.seen.length;
        const response = await fetch(`${proxy.url}/reports/q1`, { headers });
        expect(response.status, proxy.output()).toBe(200);
        const forwarded = String(lastSeenBy(before)?.headers.authorization);
        expect(forwarded).not.toBe(headers.authorization);
        const identity = await verifier.verify(forwarded.replace(/^Bearer /, ''));
        expect(identity.subject).toBe(headers['x-api-key'] ? 'ops' : alice.id);
        expect(lastSeenBy(before)?.headers).not.toHaveProperty('x-api-key');
      }
    });

    it('denies a valid credential without the route’s scope with 403', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/data/x`, { headers: { authorization: basicHeader('bob', password) } });
      expect(response.status).toBe(403);
      expect(upstream.seen.length).toBe(before);
    });

    it('denies what no route covers (default deny)', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/internal/secrets`);
      expect(response.status).toBe(403);
      expect(upstream.seen.length).toBe(before);
    });

    it('denies path tricks aimed at a protected route', async () => {
      const before = upstream.seen.length;
      for (const trick of ['/public/../admin/x', '/public/%2e%2e/admin/x', '//admin/x', '/public/..%2Fadmin/x']) {
        const response = await fetch(`${proxy.url}${trick}`);
        expect(response.status, `${name} ${trick}`).toBeGreaterThanOrEqual(400);
      }
      expect(upstream.seen.length).toBe(before);
    });

    it('does not let a client describe a different original request', async () => {
      const before = upstream.seen.length;
      const response = await fetch(`${proxy.url}/admin/x`, {
        headers: {
          'x-forwarded-uri': '/public/x',
          'x-forwarded-method': 'GET',
          'x-original-uri': '/public/x',
          'x-original-method': 'GET',
          'x-forwarded-host': 'elsewhere.test',
        },
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(upstream.seen.length).toBe(before);
    });
  }
});
