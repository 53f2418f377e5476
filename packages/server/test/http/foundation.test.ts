/**
 * Black-box tests of the foundation over real HTTP, on every store: health, readiness, the
 * authentication pipeline endpoint, admin authentication, status, audit events, problem+json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeKinds())('foundation on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.stop());

  it('answers liveness without touching the store, and readiness after checking it', async () => {
    const live = await fetch(`${server.publicUrl}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.publicUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: kind });
    const adminReady = await fetch(`${server.adminUrl}/readyz`);
    expect(adminReady.status).toBe(200);
  });

  it('answers /auth/verify with 401 and a JSON error when no credential is accepted (fail closed)', async () => {
    for (const method of ['GET', 'POST', 'HEAD', 'DELETE']) {
      const response = await fetch(`${server.publicUrl}/auth/verify`, { method });
      expect(response.status, method).toBe(401);
      expect(response.headers.get('cache-control')).toBe('no-store');
      if (method !== 'HEAD') {
        const body = await response.json();
        expect(body.error).toBe('unauthorized');
        expect(typeof body.error_description).toBe('string');
      }
      expect(response.headers.get('x-auth-subject')).toBeNull();
    }
  });

  it('refuses two Authorization headers with 400 (docs/security.md #28: Node keeps only the first)', async () => {
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['Authorization', 'Bearer one'],
        ['authorization', 'Bearer two'],
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The authorization header appears more than once',
    });
    const apiKeys = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['X-API-Key', 'a'],
        ['X-Api-Key', 'b'],
      ],
    });
    expect(apiKeys.status).toBe(400);
  });

  it('requires the admin key on every admin route, with a problem+json 401 and a challenge', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-key-wrong-key-wrong-key-wrong' },
      { authorization: 'Basic abc' },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${server.adminUrl}/admin/v1/status`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse-admin"');
      const body = await response.json();
      expect(body).toMatchObject({
        type: 'urn:gatehouse:problem:unauthorized',
        status: 401,
        instance: '/admin/v1/status',
      });
      expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.js/);
    }
    // Unknown admin paths are not revealed to unauthenticated callers.
    expect((await fetch(`${server.adminUrl}/admin/v1/nothing-here`)).status).toBe(401);
  });

  it('serves status to the admin key', async () => {
    const { status, body } = await server.admin('GET', '/admin/v1/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      store: { kind },
      issuer: server.publicUrl,
      listeners: { public: server.publicUrl, admin: server.adminUrl, proxy: null },
    });
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
    if (kind === 'postgres') expect(body.store.description).not.toMatch(/:[^:@/]+@/);
  });

  it('answers unknown admin routes with a problem+json 404 and bad queries with a 400 naming the field', async () => {
    const missing = await server.admin('GET', '/admin/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('urn:gatehouse:problem:not-found');
    const badLimit = await server.admin('GET', '/admin/v1/audit-events?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.type).toBe('urn:gatehouse:problem:validation-failed');
    expect(badLimit.body.errors[0].field).toBe('limit');
    const unknownFilter = await server.admin('GET', '/admin/v1/audit-events?colour=red');
    expect(unknownFilter.status).toBe(400);
    expect(unknownFilter.body.errors[0].field).toBe('colour');
    const badCursor = await server.admin('GET', '/admin/v1/audit-events?cursor=bm9wZQ');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.errors[0].field).toBe('cursor');
  });

  it('lists audit events newest first, filtered and paginated', async () => {
    // Failed admin authentications are audited (after the 401s above) and the bootstrap is recorded.
    await server.running.services.audit.flush();
    const created = await server.admin('GET', '/admin/v1/audit-events?action=admin_key.created');
    expect(created.status).toBe(200);
    expect(created.body.data).toHaveLength(1);
    expect(created.body.data[0]).toMatchObject({ actor: 'system', target: 'adm_bootstrap', outcome: 'success' });

    for (let i = 0; i < 3; i++)
      server.running.services.audit.record({ actor: 'test', action: 'test.event', details: { i } });
    await server.running.services.audit.flush();
    const first = await server.admin('GET', '/admin/v1/audit-events?action=test.*&limit=2');
    expect(first.body.data.map((event: { details: { i: number } }) => event.details.i)).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await server.admin(
      'GET',
      `/admin/v1/audit-events?action=test.*&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.data, ...second.body.data].map((event: { id: string }) => event.id);
    expect(new Set(all).size).toBe(3);

    const failures = await server.admin('GET', '/admin/v1/audit-events?action=auth.failed&outcome=failure');
    expect(failures.body.data.length).toBeGreaterThan(0);
    expect(failures.body.data[0].details).toMatchObject({ method: 'admin' });
  });

  it('never logs the admin key or an Authorization header value', async () => {
    await fetch(`${server.adminUrl}/admin/v1/status?api_key=sekret-query-value`, {
      headers: { authorization: 'Bearer sekret-wrong-admin-key-000000000000' },
    });
    await server.admin('GET', '/admin/v1/status');
    const logs = server.logs.join('');
    expect(logs).toContain('/admin/v1/status');
    expect(logs).not.toContain(server.adminKey);
    expect(logs).not.toContain('sekret');
  });

  it('keeps the caller’s well-formed X-Request-Id in problem bodies and replaces malformed ones', async () => {
    const kept = await fetch(`${server.adminUrl}/admin/v1/status`, { headers: { 'x-request-id': 'trace-123' } });
    expect((await kept.json()).request_id).toBe('trace-123');
    const replaced = await fetch(`${server.adminUrl}/admin/v1/status`, { headers: { 'x-request-id': 'bad id\t!' } });
    expect((await replaced.json()).request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
