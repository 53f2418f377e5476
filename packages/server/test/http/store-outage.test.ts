/**
 * Fail closed (docs/security.md #35, #38): when PostgreSQL goes away, readiness and every decision that
 * needs the store answer 503 problem+json, never 2xx; liveness stays up; and the server recovers
 * by itself when the store comes back. The outage is real: the server talks to PostgreSQL through
 * a TCP forwarder that the test cuts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe.runIf(peer('postgres').present)('store outage (PostgreSQL)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    server = await startTestServer('postgres', {
      databaseUrl: viaProxy.toString(),
      env: { GATEHOUSE_DATABASE_CONNECT_TIMEOUT: '1s' },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 while the store is down and recovers when it is back', async () => {
    expect((await fetch(`${server.publicUrl}/readyz`)).status).toBe(200);
    await proxy.cut();

    const ready = await fetch(`${server.publicUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await ready.json()).toMatchObject({ type: 'urn:gatehouse:problem:store-unavailable', status: 503 });

    const admin = await server.admin('GET', '/admin/v1/status');
    expect(admin.status).toBe(503);
    expect(admin.headers.get('retry-after')).toBe('5');
    expect(admin.body.type).toBe('urn:gatehouse:problem:store-unavailable');
    expect((await fetch(`${server.publicUrl}/healthz`)).status).toBe(200);

    await proxy.restore();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetch(`${server.publicUrl}/readyz`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expect((await server.admin('GET', '/admin/v1/status')).status).toBe(200);
  });
});
