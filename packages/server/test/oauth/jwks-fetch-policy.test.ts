/**
 * The outbound fetch policy, seen from outside (docs/security.md, "Outbound fetches"): a
 * `private_key_jwt` client's `jwks_uri` is fetched with a size cap, timeouts, no redirects, https
 * only outside dev mode, and never from a loopback, private, link-local or otherwise internal
 * address unless the operator allowlists it — judged on the address each connection resolves to.
 * A refusal at registration is 400 naming `jwks_uri`; at use, 401 `invalid_client`; never a 500.
 *
 * Guards issue 15 finding 2: a 300 MB JWKS was read whole, and a jwks_uri at the admin port made
 * the server call its own admin API.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ManualClock, manualClock } from '../support/clock.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectOAuthError, postForm, registerClient } from './support.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const BASE = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', scope: 'jobs' };

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: http.Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });

function tokenRequest(server: TestServer, clientId: string, jwt: string) {
  return postForm(`${server.publicUrl}/oauth/token`, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: jwt,
  });
}

function assertion(server: TestServer, clientId: string, keys: Keys, kid: string, nowMs = Date.now()) {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${server.publicUrl}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(randomUUID())
    .sign(keys.privateKey);
}

const publicJwk = async (keys: Keys, kid: string): Promise<JWK> => ({
  ...(await exportJWK(keys.publicKey)),
  kid,
  alg: 'ES256',
  use: 'sig',
});

describe('jwks_uri at registration (400 naming the field, nothing stored)', () => {
  let dev: TestServer;
  let production: TestServer;
  beforeAll(async () => {
    dev = await startTestServer('sqlite', { env: { GATEHOUSE_DEV: 'true' } });
    production = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await dev?.stop();
    await production?.stop();
  });

  it('refuses an internal IP literal, in every spelling, including the admin port', async () => {
    const adminPort = new URL(dev.adminUrl).port;
    const internal = [
      `http://127.0.0.1:${adminPort}/admin/v1/users`,
      'http://127.1/jwks', // WHATWG URL: 127.0.0.1
      'http://0x7f000001/jwks',
      'http://[::1]/jwks',
      'http://[::ffff:127.0.0.1]/jwks',
      'http://[::ffff:7f00:1]/jwks',
      'http://10.1.2.3/jwks',
      'http://172.16.0.1/jwks',
      'http://192.168.1.1/jwks',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/jwks',
      'http://0.0.0.0/jwks',
      'http://[fe80::1]/jwks',
      'http://[fd00:ec2::254]/jwks',
      'http://[64:ff9b::a00:1]/jwks',
      'http://224.0.0.1/jwks',
    ];
    for (const [index, uri] of internal.entries()) {
      const clientId = `refused-${index}`;
      const response = await dev.admin('POST', '/admin/v1/clients', { ...BASE, client_id: clientId, jwks_uri: uri });
      expect(response.status, uri).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.errors, uri).toEqual([{ field: 'jwks_uri', message: expect.stringMatching(/address/) }]);
      // Nothing was written.
      expect((await dev.admin('GET', `/admin/v1/clients/${clientId}`)).status).toBe(404);
    }
  });

  it('refuses plain http outside dev mode, and credentials in the URL', async () => {
    for (const uri of [
      'http://keys.example.com/jwks',
      'https://user:pass@keys.example.com/jwks',
      'ftp://x/y',
      'jwks',
    ]) {
      const response = await production.admin('POST', '/admin/v1/clients', { ...BASE, jwks_uri: uri });
      expect(response.status, uri).toBe(400);
      expect(response.body.errors[0].field).toBe('jwks_uri');
    }
    // A public https name is fine at registration (it is judged again when resolved, at use).
    await registerClient(production, { ...BASE, jwks_uri: 'https://keys.example.com/jwks' });
  });

  it('refuses an internal address on update too, keeping the stored value', async () => {
    const client = await registerClient(dev, { ...BASE, jwks_uri: 'https://keys.example.com/jwks' });
    const response = await dev.admin('PATCH', `/admin/v1/clients/${client.id}`, { jwks_uri: 'http://127.0.0.1:1/x' });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('jwks_uri');
    expect((await dev.admin('GET', `/admin/v1/clients/${client.id}`)).body.jwks_uri).toBe(
      'https://keys.example.com/jwks',
    );
  });
});

describe('jwks_uri at use, no allowlist (401 invalid_client, the internal address never reached)', () => {
  let server: TestServer;
  let keys: Keys;
  let hits = 0;
  let target: { server: http.Server; url: string };
  beforeAll(async () => {
    server = await startTestServer('sqlite', { env: { GATEHOUSE_DEV: 'true' } });
    keys = await generateKeyPair('ES256');
    const jwk = await publicJwk(keys, 'k1');
    target = await listen((_request, response) => {
      hits++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
  });
  afterAll(async () => {
    await server?.stop();
    await close(target?.server);
  });

  it('refuses a host name that resolves to loopback (localhost → the admin port) at connection time', async () => {
    const adminPort = new URL(server.adminUrl).port;
    const client = await registerClient(server, {
      ...BASE,
      jwks_uri: `http://localhost:${adminPort}/admin/v1/users`,
    });
    const before = server.logs.length;
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1')),
      401,
      'invalid_client',
    );
    // The admin listener logs every request it serves: it served none.
    expect(server.logs.slice(before).join('')).not.toContain('/admin/v1/users');
  });

  it('refuses a name resolving to loopback although the server there would have answered with good keys', async () => {
    const port = new URL(target.url).port;
    const client = await registerClient(server, { ...BASE, jwks_uri: `http://localhost:${port}/jwks.json` });
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1')),
      401,
      'invalid_client',
    );
    expect(hits).toBe(0);
  });
});

describe('jwks_uri at use with loopback allowlisted (outbound.allow)', () => {
  let server: TestServer;
  let clock: ManualClock;
  let keys: Keys;
  let rotated: Keys;
  const servers: http.Server[] = [];
  const serve = async (handler: http.RequestListener) => {
    const started = await listen(handler);
    servers.push(started.server);
    return started.url;
  };
  beforeAll(async () => {
    clock = manualClock(Date.now());
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_DEV: 'true', GATEHOUSE_OUTBOUND_ALLOW: '127.0.0.1,::1' },
      clock,
    });
    keys = await generateKeyPair('ES256');
    rotated = await generateKeyPair('ES256');
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all(servers.map(close));
  });

  it('authenticates against an allowlisted loopback JWKS', async () => {
    const jwk = await publicJwk(keys, 'k1');
    const url = await serve((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${url}/jwks.json` });
    const response = await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1', clock.now()));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  });

  it('cuts a 300 MB streamed JWKS at the cap: 401 invalid_client, memory not blown', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace, generated on the fly
    const url = await serve((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.write('{"keys":[');
      const pump = () => {
        while (written < 300 * 1024 * 1024 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end(']}');
      };
      response.on('close', () => response.removeAllListeners('drain'));
      pump();
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${url}/huge.json` });
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1', clock.now())),
      401,
      'invalid_client',
    );
    // The reader stopped soon after 256 KB: only what socket buffers absorbed was ever written.
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a body whose announced length exceeds the cap without reading it', async () => {
    let bodyWritten = false;
    const url = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) });
      response.flushHeaders();
      setTimeout(() => {
        if (!response.destroyed) bodyWritten = response.write('{"keys":[]}');
      }, 200).unref();
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${url}/announced.json` });
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1', clock.now())),
      401,
      'invalid_client',
    );
    expect(bodyWritten).toBe(false);
  });

  it('does not follow a redirect, even to a good JWKS', async () => {
    const jwk = await publicJwk(keys, 'k1');
    let goodHits = 0;
    const good = await serve((_request, response) => {
      goodHits++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    const redirecting = await serve((_request, response) => {
      response.writeHead(302, { location: `${good}/jwks.json` });
      response.end();
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${redirecting}/jwks.json` });
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1', clock.now())),
      401,
      'invalid_client',
    );
    expect(goodHits).toBe(0);
  });

  it('gives up on a server that never answers (total timeout) with 401', async () => {
    const url = await serve(() => {
      /* accepts the request and never answers */
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${url}/slow.json` });
    const started = performance.now();
    expectOAuthError(
      await tokenRequest(server, client.id, await assertion(server, client.id, keys, 'k1', clock.now())),
      401,
      'invalid_client',
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(4000);
    expect(elapsed).toBeLessThan(9000);
  }, 15_000);

  it('refetches on an unknown kid at most once per cooldown per client', async () => {
    let fetches = 0;
    let served = [await publicJwk(keys, 'k1')];
    const url = await serve((_request, response) => {
      fetches++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: served }));
    });
    const client = await registerClient(server, { ...BASE, jwks_uri: `${url}/jwks.json` });
    const sign = (key: Keys, kid: string) => assertion(server, client.id, key, kid, clock.now());
    expect((await tokenRequest(server, client.id, await sign(keys, 'k1'))).status).toBe(200);
    expect(fetches).toBe(1);
    // The client rotates; assertions with the new kid arrive before the cooldown has passed.
    served = [await publicJwk(keys, 'k1'), await publicJwk(rotated, 'k2')];
    for (let i = 0; i < 5; i++) {
      expectOAuthError(await tokenRequest(server, client.id, await sign(rotated, 'k2')), 401, 'invalid_client');
    }
    // Made-up kids cost no fetch either.
    for (const kid of ['nope-1', 'nope-2', 'nope-3']) {
      expectOAuthError(await tokenRequest(server, client.id, await sign(rotated, kid)), 401, 'invalid_client');
    }
    expect(fetches).toBe(1);
    // The known kid keeps working meanwhile, from the cached set.
    expect((await tokenRequest(server, client.id, await sign(keys, 'k1'))).status).toBe(200);
    clock.advance(31_000);
    expect((await tokenRequest(server, client.id, await sign(rotated, 'k2'))).status).toBe(200);
    expect(fetches).toBe(2);
    expectOAuthError(await tokenRequest(server, client.id, await sign(rotated, 'nope-4')), 401, 'invalid_client');
    expect(fetches).toBe(2);
  });
});
