/**
 * docs/existing-service.md, step by step: a small service that checks `X-API-KEY` against a dict
 * (the Flask app of the guide, here as a Node server doing the same thing) put behind the
 * gateway. Gatehouse strips the key before forwarding, so the old check refuses every request
 * with the same body as the route's own 401: `X-Gatehouse-Denied` tells the two apart. Then the
 * service drops its check and trusts `X-Auth-Subject`, which only Gatehouse sets.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** The service's key dict, as the guide's app.py has it. */
const LEGACY_KEYS: Record<string, string> = { 'k3y-for-alice-2019-abcdefgh': 'alice' };

interface Service {
  readonly url: string;
  /** false: the original check of X-API-KEY; true: trusts X-Auth-Subject from Gatehouse. */
  trustGatehouse: boolean;
  close(): Promise<void>;
}

/** `GET /data`: the guide's app.py, in both of its versions. */
async function startService(): Promise<Service> {
  const state = { trustGatehouse: false };
  const server = http.createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      // A service that tries to pass its answer off as Gatehouse's (the gateway removes this).
      if (request.headers['x-test-forge'] !== undefined) response.setHeader('x-gatehouse-denied', 'unauthorized');
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    };
    if (request.url !== '/data') return send(404, { error: 'Not found' });
    if (state.trustGatehouse) {
      // After: the service listens on 127.0.0.1 only, so every request came through Gatehouse.
      const subject = request.headers['x-auth-subject'];
      if (typeof subject !== 'string' || subject === '') return send(401, { error: 'Unauthorized' });
      return send(200, { data: [1, 2, 3], user: subject });
    }
    // Before: `if request.headers.get("X-API-KEY") not in API_KEYS: return {"error": "Unauthorized"}, 401`
    const key = request.headers['x-api-key'];
    const user = typeof key === 'string' ? LEGACY_KEYS[key] : undefined;
    if (user === undefined) return send(401, { error: 'Unauthorized' });
    return send(200, { data: [1, 2, 3], user });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get trustGatehouse() {
      return state.trustGatehouse;
    },
    set trustGatehouse(value: boolean) {
      state.trustGatehouse = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('putting Gatehouse in front of an existing service (docs/existing-service.md)', () => {
  let gatehouse: TestServer;
  let service: Service;
  let issued: { key: string; id: string };

  const data = (key?: string, extra: Record<string, string> = {}) =>
    fetch(`${gatehouse.proxyUrl}/data`, { headers: { ...(key === undefined ? {} : { 'x-api-key': key }), ...extra } });

  beforeAll(async () => {
    service = await startService();
    gatehouse = await startTestServer('sqlite', {
      routes: [
        {
          name: 'data',
          match: { path: '/data', methods: ['GET'] },
          upstream: service.url,
          auth: ['apikey'],
          scopes: ['data:read'],
          // The same body as the service's own 401, so existing clients see no difference.
          responses: { 401: { error: 'Unauthorized' } },
        },
      ],
    });
    const created = await gatehouse.admin('POST', '/admin/v1/api-keys', {
      name: 'alice laptop',
      owner: 'alice',
      scopes: ['data:read'],
    });
    expect(created.status).toBe(201);
    issued = created.body;
  });
  afterAll(async () => {
    await gatehouse?.stop();
    await service?.close();
  });

  it('before: the service answers its own dict check directly', async () => {
    const ok = await fetch(`${service.url}/data`, { headers: { 'x-api-key': 'k3y-for-alice-2019-abcdefgh' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: [1, 2, 3], user: 'alice' });
  });

  it('step 2: the keys clients already hold, imported, pass the gateway as their owner', async () => {
    const bobKey = 'k3y-for-bob-2020-ijklmnopq';
    const imported = await gatehouse.admin('POST', '/admin/v1/api-keys/import', {
      keys: [
        { name: 'alice laptop', owner: 'alice', scopes: ['data:read'], key: 'k3y-for-alice-2019-abcdefgh' },
        {
          name: 'bob ci',
          owner: 'bob',
          scopes: ['data:read'],
          sha256: createHash('sha256').update(bobKey).digest('hex'),
        },
      ],
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    service.trustGatehouse = true;
    for (const [key, user] of [
      ['k3y-for-alice-2019-abcdefgh', 'alice'],
      [bobKey, 'bob'],
    ] as const) {
      const response = await data(key);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: [1, 2, 3], user });
    }
    service.trustGatehouse = false;
  });

  it('a request Gatehouse refuses carries X-Gatehouse-Denied; the same body from the service does not', async () => {
    // Gatehouse refuses a key it does not know: the route's body, and the header.
    const denied = await data('not-a-key-gatehouse-knows');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'Unauthorized' });
    expect(denied.headers.get('x-gatehouse-denied')).toBe('unauthorized');
    expect(denied.headers.get('www-authenticate')).toMatch(/^ApiKey /);

    // Gatehouse accepts its own key and strips it before forwarding: the old check refuses.
    service.trustGatehouse = false;
    const passed = await data(issued.key);
    expect(passed.status).toBe(401);
    expect(await passed.json()).toEqual({ error: 'Unauthorized' });
    // Same status, same body; the missing header says the service answered, not Gatehouse.
    expect(passed.headers.get('x-gatehouse-denied')).toBeNull();
    // Only Gatehouse can set it: the gateway drops the service's own copy.
    const forged = await data(issued.key, { 'x-test-forge': '1' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('x-gatehouse-denied')).toBeNull();
  });

  it('no credential, a missing scope and no route are all marked, with no more than the status says', async () => {
    const none = await data();
    expect(none.status).toBe(401);
    expect(none.headers.get('x-gatehouse-denied')).toBe('unauthorized');

    const narrow = await gatehouse.admin('POST', '/admin/v1/api-keys', { name: 'narrow', scopes: ['other'] });
    const forbidden = await data(narrow.body.key);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('x-gatehouse-denied')).toBe('forbidden');

    const unrouted = await fetch(`${gatehouse.proxyUrl}/elsewhere`);
    expect(unrouted.status).toBe(404);
    expect(unrouted.headers.get('x-gatehouse-denied')).toBe('no-route');
  });

  it('after: the service trusts X-Auth-Subject, which Gatehouse sets and a client cannot forge', async () => {
    service.trustGatehouse = true;
    const ok = await data(issued.key, { 'x-auth-subject': 'mallory' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-gatehouse-denied')).toBeNull();
    expect(await ok.json()).toEqual({ data: [1, 2, 3], user: 'alice' });
    // Without a key, Gatehouse refuses before the service is asked, forged header or not.
    const forged = await data(undefined, { 'x-auth-subject': 'alice' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('x-gatehouse-denied')).toBe('unauthorized');
  });

  it('forward auth marks its denials too, and with routes asks which request it is about', async () => {
    const verify = (headers: Record<string, string>) => fetch(`${gatehouse.publicUrl}/auth/verify`, { headers });
    const refused = await verify({
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/data',
      'x-api-key': 'wrong-key-0000000000',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-gatehouse-denied')).toBe('unauthorized');
    expect(await refused.json()).toEqual({ error: 'Unauthorized' });

    const allowed = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/data', 'x-api-key': issued.key });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('x-auth-subject')).toBe('alice');
    expect(allowed.headers.get('x-gatehouse-denied')).toBeNull();

    // Routes exist, so a bare /auth/verify cannot be decided: 400 naming the headers to send.
    const bare = await verify({ 'x-api-key': issued.key });
    expect(bare.status).toBe(400);
    expect(bare.headers.get('x-gatehouse-denied')).toBe('invalid-request');
    expect(await bare.json()).toEqual({
      error: 'invalid_request',
      error_description:
        'Routes are configured, so the proxy must say which request it asks about (X-Forwarded-Uri, X-Original-URI, or the path below /auth/verify)',
    });
  });
});
