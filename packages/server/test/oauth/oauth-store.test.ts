/**
 * The authorization server's storage on every SQL dialect: single-use codes under concurrency,
 * single-use assertion ids, consent merging, expiry pruning; and failing closed when PostgreSQL
 * goes away (docs/security.md #35): 503 `temporarily_unavailable`, never a token or `active: true`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/oauth/authorization-store.js';
import {
  assertionReplayRepository,
  codeRepository,
  consentRepository,
  oauthPruner,
  sessionRepository,
} from '../../src/store/oauth-grant-repository.js';
import { storeKinds } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { postgresBehindProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { basic, expectOAuthError, postForm, registerClient } from './support.js';

describe.each(storeKinds())('OAuth storage on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.stop());
  const db = () => server.running.services.store.db;
  const iso = (ms: number) => new Date(ms).toISOString();

  const code = (hash: string, expiresAt: number) => ({
    codeHash: hash,
    clientId: 'cli_x',
    subject: 'usr_x',
    redirectUri: 'https://app.example.com/cb',
    redirectUriGiven: true,
    scopes: ['openid'],
    codeChallenge: 'c'.repeat(43),
    nonce: undefined,
    authTime: 1,
    audience: undefined,
    grantId: `grt_${hash.slice(0, 8)}`,
    createdAt: iso(Date.now()),
    expiresAt: iso(expiresAt),
  });

  it('lets exactly one of many concurrent redemptions of a code win (docs/security.md #15)', async () => {
    const codes = codeRepository(db());
    const hash = sha256('concurrent-code');
    await codes.insert(code(hash, Date.now() + 60_000));
    const results = await Promise.all(Array.from({ length: 8 }, () => codes.markUsed(hash, iso(Date.now()))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await codes.find(hash))?.usedAt).toEqual(expect.any(String));
  });

  it('remembers a client assertion jti once per client (docs/security.md #18)', async () => {
    const replay = assertionReplayRepository(db());
    const until = iso(Date.now() + 60_000);
    expect(await replay.remember('cli_a', 'jti-1', until)).toBe(true);
    expect(await replay.remember('cli_a', 'jti-1', until)).toBe(false);
    expect(await replay.remember('cli_b', 'jti-1', until)).toBe(true);
  });

  it('stores consent per user and client', async () => {
    const consents = consentRepository(db());
    await consents.save('usr_1', 'cli_1', ['openid'], iso(Date.now()));
    await consents.save('usr_1', 'cli_1', ['openid', 'email'], iso(Date.now()));
    expect(await consents.find('usr_1', 'cli_1')).toEqual(['openid', 'email']);
    expect(await consents.find('usr_1', 'cli_2')).toBeUndefined();
  });

  it('prunes expired state, keeping used codes a day so that late replays still revoke', async () => {
    const now = Date.now();
    const codes = codeRepository(db());
    await codes.insert(code(sha256('old-code'), now - 2 * 86_400_000));
    await codes.insert(code(sha256('recent-code'), now - 3_600_000));
    const sessions = sessionRepository(db());
    await sessions.create({
      idHash: sha256('old-session'),
      subject: 'usr_x',
      authTime: 1,
      createdAt: iso(now),
      expiresAt: iso(now - 1),
    });
    const removed = await oauthPruner(db()).prune(iso(now));
    expect(removed).toBeGreaterThanOrEqual(2);
    expect(await codes.find(sha256('old-code'))).toBeUndefined();
    expect(await codes.find(sha256('recent-code'))).toBeDefined();
    expect(await sessions.find(sha256('old-session'), iso(now - 10))).toBeUndefined();
  });
});

describe.runIf(peer('postgres').present)('OAuth endpoints during a store outage (PostgreSQL)', () => {
  let store: Awaited<ReturnType<typeof postgresBehindProxy>>;
  let proxy: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    store = await postgresBehindProxy();
    proxy = store.proxy;
    server = await startTestServer('postgres', {
      databaseUrl: store.serverUrl,
      env: { GATEHOUSE_DATABASE_CONNECT_TIMEOUT: '1s' },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await store?.drop();
  });

  it('answers 503 temporarily_unavailable, never a token or active:true, and recovers', async () => {
    const resource = await registerClient(server, { grant_types: ['client_credentials'] });
    const service = await registerClient(server, { grant_types: ['client_credentials'] });
    await proxy.cut();
    // A client not seen yet must be read from the store: 503.
    const token = await postForm(`${server.publicUrl}/oauth/token`, 'grant_type=client_credentials', {
      authorization: basic(service.id, service.secret),
    });
    expectOAuthError(token, 503, 'temporarily_unavailable');
    expect(token.headers.get('retry-after')).toBe('5');
    const introspect = await postForm(
      `${server.publicUrl}/oauth/introspect`,
      { token: `ghr_${'a'.repeat(43)}` },
      {
        authorization: basic(resource.id, resource.secret),
      },
    );
    expect(introspect.status).toBe(503);
    expect(introspect.body.active).toBeUndefined();
    await proxy.restore();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (
        await postForm(`${server.publicUrl}/oauth/token`, 'grant_type=client_credentials', {
          authorization: basic(service.id, service.secret),
        })
      ).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
