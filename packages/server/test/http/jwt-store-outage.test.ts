/**
 * The store decision of docs/security.md: JWT verification keeps working from the keys in memory while
 * the store is unreachable, and everything that needs the store (login, refresh) fails closed with
 * 503, never 2xx. PostgreSQL only: its connections can be cut from outside, as an outage would.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { postgresBaseUrl } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const postgres = peer('postgres');

describe.runIf(postgres.present).each(['postgres'] as const)('JWT verification during a store outage (%s)', (kind) => {
  let server: TestServer;
  let database: string;
  const alice = { username: 'alice', password: 'correct horse battery staple', scopes: ['read'] };

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresBaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    server = await startTestServer(kind);
    await createUser(server, alice);
    database = (
      await server.running.services.store.db
        .selectNoFrom((eb) => eb.fn<string>('current_database').as('name'))
        .executeTakeFirstOrThrow()
    ).name;
  });
  afterAll(async () => {
    await admin(`alter database ${database} allow_connections true`).catch(() => {});
    await server?.stop();
  });

  it('verifies tokens from memory while login answers 503', async () => {
    const login = () =>
      fetch(`${server.publicUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: alice.password }),
      });
    const first = (await (await login()).json()) as { access_token: string; refresh_token: string };
    const second = (await (await login()).json()) as { access_token: string };

    await admin(`alter database ${database} allow_connections false`);
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
    try {
      // Never verified before: a first-sight verification, from the keys in memory.
      const verified = await fetch(`${server.publicUrl}/auth/verify`, {
        headers: { authorization: `Bearer ${second.access_token}` },
      });
      expect(verified.status).toBe(200);
      expect(verified.headers.get('x-auth-method')).toBe('jwt');
      const refused = await login();
      expect(refused.status).toBe(503);
      expect((await refused.json()).type).toBe('urn:gatehouse:problem:store-unavailable');
      const refresh = await fetch(`${server.publicUrl}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: first.refresh_token }),
      });
      expect(refresh.status).toBe(503);
    } finally {
      await admin(`alter database ${database} allow_connections true`);
    }
    expect((await login()).status).toBe(200);
  });
});
