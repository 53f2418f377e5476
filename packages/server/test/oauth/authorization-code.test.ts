/**
 * The authorization code flow with PKCE, end to end over HTTP: authorization endpoint, login and
 * consent pages, code redemption, ID token, userinfo; and every "bad input" of the flow with the
 * RFC's error (docs/security.md #13, #14, #15, #22). On every store.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/audit/audit.js';
import { createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Browser, pkcePair } from './browser.js';
import { basic, claimsOf, expectOAuthError, postForm, type RegisteredClient, registerClient } from './support.js';

const REDIRECT = 'https://app.example.com/callback';
const PASSWORD = 'queen-of-hearts-croquet-9271';

describe.each(storeKinds())('authorization code flow on %s', (kind) => {
  let server: TestServer;
  let app: RegisteredClient;
  let other: RegisteredClient;
  let issuer: string;
  let offsetMs = 0;
  const clock: Clock = { now: () => Date.now() + offsetMs };
  let alice: string;

  const authorizeUrl = (params: Record<string, string>) => `/oauth/authorize?${new URLSearchParams(params).toString()}`;
  const baseParams = (client: RegisteredClient, challenge: string, extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: REDIRECT,
    scope: 'openid profile email invoices:read',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });

  /** Runs the browser part of the flow as a person would and answers the callback URL. */
  async function authorize(
    browser: Browser,
    client: RegisteredClient,
    challenge: string,
    extra: Record<string, string> = {},
  ) {
    const login = await browser.follow(authorizeUrl(baseParams(client, challenge, extra)));
    if (login.url.startsWith(REDIRECT)) return new URL(login.url);
    expect(login.response.status).toBe(200);
    expect(login.body).toContain('Sign in');
    const consent = await browser.submit(login.body, { username: 'alice', password: PASSWORD });
    if (consent.url.startsWith(REDIRECT)) return new URL(consent.url);
    expect(consent.body).toContain('Allow access?');
    const done = await browser.submit(consent.body, { decision: 'allow' });
    return new URL(done.url);
  }

  const redeem = (client: RegisteredClient, code: string, verifier: string, extra: Record<string, string> = {}) =>
    postForm(
      `${server.publicUrl}/oauth/token`,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...extra },
      { authorization: basic(client.id, client.secret) },
    );

  beforeAll(async () => {
    server = await startTestServer(kind, {
      clock,
    });
    issuer = server.running.services.config.issuer;
    alice = (
      await createUser(server, {
        username: 'alice',
        password: PASSWORD,
        scopes: ['invoices:read'],
        metadata: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
      })
    ).id;
    const registration = {
      client_name: 'Invoice App',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT, 'http://127.0.0.1/cb'],
      scope: 'openid profile email invoices:read invoices:write',
    };
    app = await registerClient(server, registration);
    other = await registerClient(server, { ...registration, client_name: 'Other' });
  });
  afterAll(async () => server?.stop());

  it('logs in, asks consent, redirects with 303, code, state and iss, and redeems the code for tokens', async () => {
    const browser = new Browser(server.publicUrl);
    const { verifier, challenge } = pkcePair();
    const first = await browser.request(authorizeUrl(baseParams(app, challenge)));
    expect(first.response.status).toBe(303);
    expect(first.response.headers.get('access-control-allow-origin')).toBeNull();
    const login = await browser.follow(first.response.headers.get('location') as string);
    // Pages: strict CSP, no inline script or style, CSRF token, no framing (docs/security.md #26).
    const csp = login.response.headers.get('content-security-policy') as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain('form-action');
    expect(login.response.headers.get('x-frame-options')).toBe('DENY');
    expect(login.body).not.toMatch(/<script|style=|<style/i);
    expect(login.body).toMatch(/name="csrf_token" value="[A-Za-z0-9_-]{43}"/);
    const setCookies = first.response.headers.getSetCookie();
    expect(setCookies.some((cookie) => /HttpOnly/i.test(cookie) && /SameSite=Lax/i.test(cookie))).toBe(true);

    const consent = await browser.submit(login.body, { username: 'alice', password: PASSWORD });
    expect(consent.response.status).toBe(200);
    expect(consent.body).toContain('Invoice App');
    expect(consent.body).toContain('invoices:read');
    const done = await browser.submit(consent.body, { decision: 'allow' });
    expect(done.response.status).toBe(303);
    const callback = new URL(done.url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe('st-123');
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const code = callback.searchParams.get('code') as string;
    // docs/security.md #20: 256 random bits.
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const tokens = await redeem(app, code, verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    expect(tokens.body).toMatchObject({
      token_type: 'Bearer',
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
      scope: 'openid profile email invoices:read',
    });
    const access = claimsOf(tokens.body.access_token);
    expect(access).toMatchObject({ sub: alice, client_id: app.id, iss: issuer });
    const idToken = claimsOf(tokens.body.id_token);
    expect(idToken).toMatchObject({
      iss: issuer,
      sub: alice,
      aud: app.id,
      nonce: 'n-456',
      name: 'Alice Liddell',
      email: 'alice@example.com',
      auth_time: expect.any(Number),
    });
    const header = JSON.parse(Buffer.from(tokens.body.id_token.split('.')[0], 'base64url').toString());
    // Signed with the active key: ES256 by default (keys.algorithm; metadata.test.ts covers RS256).
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    const hash = createHash('sha256').update(tokens.body.access_token).digest().subarray(0, 16).toString('base64url');
    expect(idToken.at_hash).toBe(hash);

    // Userinfo (OIDC Core §5.3), GET and POST.
    const userinfo = await fetch(`${server.publicUrl}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toEqual({
      sub: alice,
      name: 'Alice Liddell',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    const posted = await postForm(`${server.publicUrl}/oauth/userinfo`, { access_token: tokens.body.access_token });
    expect(posted.status).toBe(200);
    expect(posted.body.sub).toBe(alice);

    // Remembered consent and session: the next request goes straight back with a code.
    const again = await browser.request(authorizeUrl(baseParams(app, pkcePair().challenge, { state: 'second' })));
    expect(again.response.status).toBe(303);
    const location = new URL(again.response.headers.get('location') as string);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('second');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // docs/security.md #34: no password, code or token in the logs.
    const logs = server.logs.join('');
    for (const secret of [PASSWORD, code, tokens.body.access_token, tokens.body.refresh_token, tokens.body.id_token]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('asks again with prompt=login, prompt=consent or an exceeded max_age; accepts POST at the authorization endpoint', async () => {
    const browser = new Browser(server.publicUrl);
    await authorize(browser, app, pkcePair().challenge);
    const next = async (extra: Record<string, string>) => {
      const page = await browser.follow(authorizeUrl(baseParams(app, pkcePair().challenge, extra)));
      return page.url.startsWith(REDIRECT) ? 'redirect' : page.body.includes('Sign in') ? 'login' : 'consent';
    };
    expect(await next({})).toBe('redirect');
    expect(await next({ prompt: 'login' })).toBe('login');
    expect(await next({ prompt: 'consent' })).toBe('consent');
    expect(await next({ max_age: '3600' })).toBe('redirect');
    offsetMs = 2000;
    try {
      expect(await next({ max_age: '1' })).toBe('login');
    } finally {
      offsetMs = 0;
    }
    // OIDC Core §3.1.2.1: the same request as a form POST.
    const posted = await browser.request('/oauth/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(baseParams(app, pkcePair().challenge)).toString(),
    });
    expect(posted.response.status).toBe(303);
    expect(posted.response.headers.get('location')).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
  });

  it('grants only the non-OpenID scopes the user holds', async () => {
    const browser = new Browser(server.publicUrl);
    const { verifier, challenge } = pkcePair();
    const callback = await authorize(browser, app, challenge, { scope: 'openid invoices:read invoices:write' });
    const tokens = await redeem(app, callback.searchParams.get('code') as string, verifier);
    expect(tokens.body.scope).toBe('openid invoices:read');
  });

  it('shows an error page, never a redirect, for an unknown client and for redirect URIs that differ at all (docs/security.md #13)', async () => {
    const browser = new Browser(server.publicUrl);
    const { challenge } = pkcePair();
    const variants = [
      `${REDIRECT}/`,
      'https://app.example.com:8443/callback',
      'https://APP.example.com/callback',
      'https://app.example.com/Callback',
      `${REDIRECT}?extra=1`,
      'https://evil.example.com/callback',
      'javascript:alert(1)',
    ];
    for (const redirectUri of variants) {
      const { response, body } = await browser.request(
        authorizeUrl(baseParams(app, challenge, { redirect_uri: redirectUri })),
      );
      expect(response.status, redirectUri).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(body).toContain('redirect_uri is not registered');
    }
    const unknown = await browser.request(authorizeUrl({ ...baseParams(app, challenge), client_id: 'cli_unknown' }));
    expect(unknown.response.status).toBe(400);
    expect(unknown.response.headers.get('location')).toBeNull();
    const twice = await browser.request(
      `${authorizeUrl(baseParams(app, challenge))}&redirect_uri=${encodeURIComponent('https://evil.example.com/cb')}`,
    );
    expect(twice.response.status).toBe(400);
    expect(twice.response.headers.get('location')).toBeNull();
  });

  it('accepts any port for a registered loopback IP redirect URI (RFC 8252 §7.3), and nothing else', async () => {
    const browser = new Browser(server.publicUrl);
    const { challenge } = pkcePair();
    const ok = await browser.request(
      authorizeUrl(baseParams(app, challenge, { redirect_uri: 'http://127.0.0.1:51004/cb' })),
    );
    expect(ok.response.status).toBe(303);
    const bad = await browser.request(
      authorizeUrl(baseParams(app, challenge, { redirect_uri: 'http://127.0.0.1:51004/cb2' })),
    );
    expect(bad.response.status).toBe(400);
  });

  it('redirects request errors back with error, state and iss once the redirect URI is trusted', async () => {
    const browser = new Browser(server.publicUrl);
    const { challenge } = pkcePair();
    const cases: Array<[Record<string, string>, string]> = [
      [{ code_challenge: '' }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: '' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ response_type: '' }, 'invalid_request'],
      [{ scope: 'openid admin' }, 'invalid_scope'],
      [{ resource: 'https://elsewhere.example.com' }, 'invalid_target'],
      [{ prompt: 'none login' }, 'invalid_request'],
      [{ prompt: 'none' }, 'login_required'],
    ];
    for (const [change, error] of cases) {
      const { response } = await browser.request(authorizeUrl(baseParams(app, challenge, change)));
      expect(response.status, JSON.stringify(change)).toBe(303);
      const location = new URL(response.headers.get('location') as string);
      expect(location.origin + location.pathname).toBe(REDIRECT);
      expect(location.searchParams.get('error'), JSON.stringify(change)).toBe(error);
      expect(location.searchParams.get('state')).toBe('st-123');
      expect(location.searchParams.get('iss')).toBe(issuer);
      expect(location.searchParams.get('code')).toBeNull();
    }
    const repeated = await browser.request(`${authorizeUrl(baseParams(app, challenge))}&scope=openid`);
    expect(new URL(repeated.response.headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_request',
    );
    const ccOnly = await registerClient(server, { grant_types: ['client_credentials'], redirect_uris: [REDIRECT] });
    const notAllowed = await browser.request(authorizeUrl(baseParams(ccOnly, challenge)));
    expect(new URL(notAllowed.response.headers.get('location') as string).searchParams.get('error')).toBe(
      'unauthorized_client',
    );
  });

  it('answers access_denied when the user denies, and refuses a wrong password, a missing CSRF token and another browser', async () => {
    const browser = new Browser(server.publicUrl);
    const { challenge } = pkcePair();
    const login = await browser.follow(authorizeUrl(baseParams(other, challenge)));
    const wrong = await browser.submit(login.body, { username: 'alice', password: 'wrong' });
    expect(wrong.response.status).toBe(401);
    expect(wrong.body).toContain('The username or password is not correct');
    const unknownUser = await browser.submit(login.body, { username: 'mallory', password: 'wrong' });
    expect(unknownUser.response.status).toBe(401);
    expect(unknownUser.body.replace(/value="[^"]*"/g, '')).toBe(wrong.body.replace(/value="[^"]*"/g, ''));

    const action = /action="([^"]+)"/.exec(login.body)?.[1] as string;
    const noCsrf = await browser.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=alice&password=${PASSWORD}`,
    });
    expect(noCsrf.response.status).toBe(403);
    const stranger = new Browser(server.publicUrl);
    const elsewhere = await stranger.submit(login.body, {
      username: 'alice',
      password: PASSWORD,
    });
    expect(elsewhere.response.status).toBe(400);
    expect(elsewhere.body).toContain('another browser');

    const consent = await browser.submit(login.body, { username: 'alice', password: PASSWORD });
    const denied = await browser.submit(consent.body, { decision: 'deny' });
    expect(denied.response.status).toBe(303);
    const callback = new URL(denied.url);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('st-123');
    expect(callback.searchParams.get('iss')).toBe(issuer);
  });

  it('refuses a missing or wrong verifier, another client, another redirect URI, and revokes on a second use (docs/security.md #14, #15)', async () => {
    const browser = new Browser(server.publicUrl);
    const { verifier, challenge } = pkcePair();
    const code = (await authorize(browser, app, challenge)).searchParams.get('code') as string;

    expectOAuthError(await redeem(app, code, verifier, { code_verifier: '' }), 400, 'invalid_request');
    expectOAuthError(await redeem(app, code, pkcePair().verifier), 400, 'invalid_grant');
    expectOAuthError(await redeem(app, code, 'too-short'), 400, 'invalid_request');
    expectOAuthError(await redeem(other, code, verifier), 400, 'invalid_grant');
    expectOAuthError(await redeem(app, code, verifier, { redirect_uri: `${REDIRECT}/` }), 400, 'invalid_grant');
    expectOAuthError(await redeem(app, 'not-a-code', verifier), 400, 'invalid_grant');
    expectOAuthError(await redeem(app, code, verifier, { code: '' }), 400, 'invalid_request');

    const tokens = await redeem(app, code, verifier);
    expect(tokens.status).toBe(200);
    const reused = await redeem(app, code, verifier);
    expectOAuthError(reused, 400, 'invalid_grant');
    // The tokens issued with the code are revoked (RFC 6749 §4.1.2).
    const verify = await fetch(`${server.publicUrl}/auth/verify`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(verify.status).toBe(401);
    const refresh = await postForm(
      `${server.publicUrl}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token },
      { authorization: basic(app.id, app.secret) },
    );
    expectOAuthError(refresh, 400, 'invalid_grant');
  });

  it('refuses an expired code (single-use, short-lived, docs/security.md #15)', async () => {
    const browser = new Browser(server.publicUrl);
    const { verifier, challenge } = pkcePair();
    const code = (await authorize(browser, app, challenge)).searchParams.get('code') as string;
    offsetMs = server.running.services.config.oauth.codeTtlMs + 1000;
    try {
      expectOAuthError(await redeem(app, code, verifier), 400, 'invalid_grant');
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses userinfo without a token, with a bad token, and with a token in the query (docs/security.md #26)', async () => {
    const none = await fetch(`${server.publicUrl}/oauth/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    const bad = await fetch(`${server.publicUrl}/oauth/userinfo`, { headers: { authorization: 'Bearer a.b.c' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const query = await fetch(`${server.publicUrl}/oauth/userinfo?access_token=a.b.c`);
    expect(query.status).toBe(400);
    const cc = await registerClient(server, { grant_types: ['client_credentials'] });
    const ccToken = await postForm(`${server.publicUrl}/oauth/token`, 'grant_type=client_credentials', {
      authorization: basic(cc.id, cc.secret),
    });
    const noOpenid = await fetch(`${server.publicUrl}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${ccToken.body.access_token}` },
    });
    expect(noOpenid.status).toBe(403);
    expect(noOpenid.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });
});
