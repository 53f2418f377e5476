/**
 * The throttle decides before the Basic verification cache answers (issue 15, finding 1;
 * docs/security.md #32). Found by an outside attack: while a legitimate client kept carol's
 * credentials warm in the cache, an attacker from another address got a fast 429 for every wrong
 * guess and a 200 for the right one, so the 429 told it when it had found the password.
 *
 * Black-box, over real sockets: clients are bound to different loopback addresses
 * (127.0.0.2, 127.0.0.4…) and the server trusts the socket address (no trust_proxy), so the
 * addresses cannot be forged by a header. The clock is injected, so back-offs do not run out
 * and the cache stays warm for the whole test. The same attack is replayed on `POST /auth/login`
 * and on the OAuth login page, which share the password path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, pkcePair } from '../oauth/browser.js';
import { type RegisteredClient, registerClient } from '../oauth/support.js';
import { basicHeader, createUser, manualClock } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { type RawResponse, rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

const THROTTLE = {
  // One free failure, then an exponential wait: the 401 429 429.
  GATEHOUSE_THROTTLE_USER_FREE_ATTEMPTS: '1',
  GATEHOUSE_THROTTLE_USER_LOCK_AFTER: '20',
  GATEHOUSE_THROTTLE_BACKOFF_BASE: '10s',
  GATEHOUSE_THROTTLE_BACKOFF_MAX: '1m',
  GATEHOUSE_BASIC_CACHE_TTL: '5m',
};

describe.each(storeKinds())('the throttle comes before the Basic cache on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();

  beforeAll(async () => {
    // Plain HTTP from loopback is allowed by the test harness; no trust_proxy: the socket is the truth.
    server = await startTestServer(kind, { clock, env: THROTTLE });
    for (const name of ['carol', 'dave', 'erin']) {
      await createUser(server, { username: name, password: `${name}-correct-horse` });
    }
  });
  afterAll(async () => server?.stop());

  const basicFrom = (localAddress: string, username: string, password: string): Promise<RawResponse> =>
    rawRequest(`${server.publicUrl}/auth/verify`, {
      localAddress,
      headers: [['authorization', basicHeader(username, password)]],
    });

  const loginFrom = (localAddress: string, username: string, password: string): Promise<RawResponse> =>
    rawRequest(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      localAddress,
      headers: [['content-type', 'application/json']],
      body: JSON.stringify({ username, password }),
    });

  it('answers the right password with the same 429 as the wrong ones while the cache is warm', async () => {
    // A legitimate client logs in: carol's credentials are now in the cache.
    expect((await basicFrom('127.0.0.2', 'carol', 'carol-correct-horse')).status).toBe(200);

    // The attacker, from elsewhere: one ordinary failure, then held back.
    const wrong = [];
    for (const guess of ['guess-1', 'guess-2', 'guess-3']) wrong.push(await basicFrom('127.0.0.4', 'carol', guess));
    expect(wrong.map((answer) => answer.status)).toEqual([401, 429, 429]);

    // The right password, from the attacker's address: the throttle holds it back, exactly like a
    // wrong guess (before the fix: 200 from the cache).
    const right = await basicFrom('127.0.0.4', 'carol', 'carol-correct-horse');
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBe(wrong[2]?.headers['retry-after']);
    expect(right.json()).toEqual(wrong[2]?.json());

    // Another address that never logged in is a stranger too: carol is locked for strangers.
    expect((await basicFrom('127.0.0.5', 'carol', 'carol-correct-horse')).status).toBe(429);

    // The familiar client (docs/security.md #32) is not locked out by the attack and still gets the
    // cache's fast answer.
    const hitsBefore = server.running.services.basicCache.stats.hits;
    expect((await basicFrom('127.0.0.2', 'carol', 'carol-correct-horse')).status).toBe(200);
    expect(server.running.services.basicCache.stats.hits).toBe(hitsBefore + 1);

    // Once the wait is over, the right password works from anywhere again.
    clock.advance(60_000);
    expect((await basicFrom('127.0.0.4', 'carol', 'carol-correct-horse')).status).toBe(200);
  });

  it('makes a client familiar when the cache answers it, so a later attack does not lock it out', async () => {
    // dave logs in from .6 (a full verification), then .7 is answered from the cache.
    expect((await basicFrom('127.0.0.6', 'dave', 'dave-correct-horse')).status).toBe(200);
    expect((await basicFrom('127.0.0.7', 'dave', 'dave-correct-horse')).status).toBe(200);
    // An attacker locks dave for strangers.
    expect((await basicFrom('127.0.0.8', 'dave', 'nope')).status).toBe(401);
    expect((await basicFrom('127.0.0.8', 'dave', 'nope')).status).toBe(429);
    // Both clients that logged in before keep working; the attacker's right guess does not.
    expect((await basicFrom('127.0.0.6', 'dave', 'dave-correct-horse')).status).toBe(200);
    expect((await basicFrom('127.0.0.7', 'dave', 'dave-correct-horse')).status).toBe(200);
    expect((await basicFrom('127.0.0.8', 'dave', 'dave-correct-horse')).status).toBe(429);
  });

  it('holds POST /auth/login back the same way', async () => {
    expect((await loginFrom('127.0.0.10', 'erin', 'erin-correct-horse')).status).toBe(200);
    const wrong = [];
    for (const guess of ['guess-1', 'guess-2', 'guess-3']) wrong.push(await loginFrom('127.0.0.11', 'erin', guess));
    expect(wrong.map((answer) => answer.status)).toEqual([401, 429, 429]);
    const right = await loginFrom('127.0.0.11', 'erin', 'erin-correct-horse');
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBeDefined();
    expect(right.body).not.toContain('access_token');
    // The familiar client still logs in.
    expect((await loginFrom('127.0.0.10', 'erin', 'erin-correct-horse')).status).toBe(200);
  });
});

describe.each(storeKinds())('the throttle holds back the OAuth login page on %s', (kind) => {
  const REDIRECT = 'https://app.example.com/callback';
  let server: TestServer;
  let client: RegisteredClient;
  const clock = manualClock();

  beforeAll(async () => {
    // Pages are driven with fetch, which cannot pick its source address: here the client's
    // address comes from X-Forwarded-For, believed from the loopback "proxy".
    server = await startTestServer(kind, { clock, env: { ...THROTTLE, GATEHOUSE_TRUST_PROXY: 'loopback' } });
    await createUser(server, { username: 'frank', password: 'frank-correct-horse' });
    client = await registerClient(server, {
      client_name: 'Invoice App',
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      scope: 'openid',
    });
  });
  afterAll(async () => server?.stop());

  async function loginPage(browser: Browser): Promise<string> {
    const { challenge } = pkcePair();
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: REDIRECT,
      scope: 'openid',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(`/oauth/authorize?${params}`);
    expect(page.response.status).toBe(200);
    expect(page.body).toContain('Sign in');
    return page.body;
  }

  it('answers the right password with 429 while the attacker is held back; the familiar browser signs in', async () => {
    const legitimate = new Browser(server.publicUrl, { 'x-forwarded-for': '127.0.0.20' });
    const signedIn = await legitimate.submit(await loginPage(legitimate), {
      username: 'frank',
      password: 'frank-correct-horse',
    });
    expect(signedIn.body).toContain('Allow access?');

    const attacker = new Browser(server.publicUrl, { 'x-forwarded-for': '127.0.0.21' });
    let page = await loginPage(attacker);
    const statuses = [];
    for (const guess of ['guess-1', 'guess-2', 'guess-3']) {
      const answer = await attacker.submit(page, { username: 'frank', password: guess });
      statuses.push(answer.response.status);
      page = answer.body;
    }
    expect(statuses).toEqual([401, 429, 429]);
    const right = await attacker.submit(page, { username: 'frank', password: 'frank-correct-horse' });
    expect(right.response.status).toBe(429);
    expect(right.response.headers.get('retry-after')).toBeDefined();
    expect(right.body).toContain('Too many attempts');

    const again = new Browser(server.publicUrl, { 'x-forwarded-for': '127.0.0.20' });
    const familiar = await again.submit(await loginPage(again), { username: 'frank', password: 'frank-correct-horse' });
    expect(familiar.body).toContain('Allow access?');
  });
});
