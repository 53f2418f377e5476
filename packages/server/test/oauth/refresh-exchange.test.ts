/**
 * The refresh token grant (rotation, reuse detection, no scope widening; docs/security.md #17),
 * revocation of refresh tokens killing the grant's access tokens (docs/security.md #24), and token
 * exchange (RFC 8693: audience and scope only shrink). On every store.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { runCli } from '../support/cli.js';
import { storeKinds, tempDir } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Browser, pkcePair } from './browser.js';
import {
  basic,
  claimsOf,
  expectOAuthError,
  type FormResponse,
  postForm,
  type RegisteredClient,
  registerClient,
} from './support.js';

const REDIRECT = 'https://app.example.com/callback';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

describe.each(storeKinds())('refresh and token exchange on %s', (kind) => {
  let server: TestServer;
  let app: RegisteredClient;
  let other: RegisteredClient;
  let gateway: RegisteredClient;
  let bob: string;
  const url = (path: string) => `${server.publicUrl}${path}`;

  async function userTokens(scope = 'openid read write'): Promise<FormResponse> {
    const browser = new Browser(server.publicUrl);
    const { verifier, challenge } = pkcePair();
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: app.id,
      redirect_uri: REDIRECT,
      scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    let page = await browser.follow(`/oauth/authorize?${params}`);
    if (page.body.includes('Sign in'))
      page = await browser.submit(page.body, { username: 'bob', password: 'pw-bob-long-enough-4417' });
    if (page.body.includes('Allow access?')) page = await browser.submit(page.body, { decision: 'allow' });
    const code = new URL(page.url).searchParams.get('code') as string;
    const tokens = await postForm(
      url('/oauth/token'),
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
      { authorization: basic(app.id, app.secret) },
    );
    expect(tokens.status).toBe(200);
    return tokens;
  }

  const refresh = (client: RegisteredClient, token: string, extra: Record<string, string> = {}) =>
    postForm(
      url('/oauth/token'),
      { grant_type: 'refresh_token', refresh_token: token, ...extra },
      {
        authorization: basic(client.id, client.secret),
      },
    );
  // Introspection, not /auth/verify: these tokens are for the registered resource servers' audiences.
  const isActive = async (token: string) =>
    (await postForm(url('/oauth/introspect'), { token }, { authorization: basic(gateway.id, gateway.secret) })).body
      .active === true;

  beforeAll(async () => {
    server = await startTestServer(kind);
    bob = (
      await createUser(server, { username: 'bob', password: 'pw-bob-long-enough-4417', scopes: ['read', 'write'] })
    ).id;
    const registration = {
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid read write',
      audience: ['https://orders.example.com', 'https://stock.example.com'],
      skip_consent: true,
    };
    app = await registerClient(server, registration);
    other = await registerClient(server, registration);
    gateway = await registerClient(server, { grant_types: [EXCHANGE] });
  });
  afterAll(async () => server?.stop());

  it('rotates the refresh token on every use and narrows scope on request', async () => {
    const first = await userTokens();
    const second = await refresh(app, first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.body.refresh_token).toEqual(expect.any(String));
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(second.body.scope).toBe('openid read write');
    expect(claimsOf(second.body.access_token).sub).toBe(bob);
    const narrow = await refresh(app, second.body.refresh_token, { scope: 'read' });
    expect(narrow.status).toBe(200);
    expect(narrow.body.scope).toBe('read');
  });

  it('refuses scope escalation on refresh (invalid_scope)', async () => {
    const tokens = await userTokens('openid read');
    expectOAuthError(await refresh(app, tokens.body.refresh_token, { scope: 'read write' }), 400, 'invalid_scope');
  });

  it('revokes the whole grant when a used refresh token comes back (RFC 9700 §4.14)', async () => {
    const first = await userTokens();
    const second = await refresh(app, first.body.refresh_token);
    expect(await isActive(second.body.access_token)).toBe(true);
    expectOAuthError(await refresh(app, first.body.refresh_token), 400, 'invalid_grant');
    // The family is dead: the newest refresh token and the grant's access tokens too.
    expectOAuthError(await refresh(app, second.body.refresh_token), 400, 'invalid_grant');
    expect(await isActive(first.body.access_token)).toBe(false);
    expect(await isActive(second.body.access_token)).toBe(false);
  });

  it('refuses a refresh token presented by another client, and a missing one', async () => {
    const tokens = await userTokens();
    expectOAuthError(await refresh(other, tokens.body.refresh_token), 400, 'invalid_grant');
    expectOAuthError(
      await postForm(
        url('/oauth/token'),
        { grant_type: 'refresh_token' },
        { authorization: basic(app.id, app.secret) },
      ),
      400,
      'invalid_request',
    );
    // Still usable by its own client.
    expect((await refresh(app, tokens.body.refresh_token)).status).toBe(200);
  });

  it('introspects a refresh token, and revoking it kills the grant’s access tokens (docs/security.md #24)', async () => {
    const tokens = await userTokens();
    const introspected = await postForm(
      url('/oauth/introspect'),
      { token: tokens.body.refresh_token, token_type_hint: 'refresh_token' },
      {
        authorization: basic(gateway.id, gateway.secret),
      },
    );
    expect(introspected.body).toMatchObject({
      active: true,
      sub: bob,
      client_id: app.id,
      token_type: 'refresh_token',
    });
    const notYours = await postForm(
      url('/oauth/revoke'),
      { token: tokens.body.refresh_token },
      {
        authorization: basic(other.id, other.secret),
      },
    );
    expectOAuthError(notYours, 400, 'unauthorized_client');
    expect(await isActive(tokens.body.access_token)).toBe(true);
    const revoked = await postForm(
      url('/oauth/revoke'),
      { token: tokens.body.refresh_token, token_type_hint: 'refresh_token' },
      {
        authorization: basic(app.id, app.secret),
      },
    );
    expect(revoked.status).toBe(200);
    expect(await isActive(tokens.body.access_token)).toBe(false);
    expectOAuthError(await refresh(app, tokens.body.refresh_token), 400, 'invalid_grant');
    const after = await postForm(
      url('/oauth/introspect'),
      { token: tokens.body.refresh_token },
      {
        authorization: basic(gateway.id, gateway.secret),
      },
    );
    expect(after.body).toEqual({ active: false });
  });

  describe('token exchange (RFC 8693)', () => {
    const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
      postForm(
        url('/oauth/token'),
        { grant_type: EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, ...extra },
        { authorization: basic(gateway.id, gateway.secret) },
      );

    it('trades a token for a narrower one, naming the exchanging client as actor', async () => {
      const tokens = await userTokens();
      const original = claimsOf(tokens.body.access_token);
      expect(original.aud).toEqual(['https://orders.example.com', 'https://stock.example.com']);
      const narrower = await exchange(tokens.body.access_token, {
        scope: 'read',
        audience: 'https://stock.example.com',
      });
      expect(narrower.status, JSON.stringify(narrower.body)).toBe(200);
      expect(narrower.body).toMatchObject({
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        scope: 'read',
      });
      const claims = claimsOf(narrower.body.access_token);
      expect(claims).toMatchObject({
        sub: bob,
        client_id: gateway.id,
        aud: 'https://stock.example.com',
        act: { sub: gateway.id },
      });
      expect(claims.exp).toBeLessThanOrEqual(original.exp);
      // Exchanging the exchanged token again nests the actors.
      const twice = await exchange(narrower.body.access_token);
      expect(claimsOf(twice.body.access_token).act).toEqual({ sub: gateway.id, act: { sub: gateway.id } });
    });

    it('refuses to widen scope (invalid_scope) or audience (invalid_target)', async () => {
      const tokens = await userTokens('openid read');
      expectOAuthError(await exchange(tokens.body.access_token, { scope: 'read write' }), 400, 'invalid_scope');
      expectOAuthError(
        await exchange(tokens.body.access_token, { audience: 'https://billing.example.com' }),
        400,
        'invalid_target',
      );
      expectOAuthError(
        await exchange(tokens.body.access_token, { resource: 'https://billing.example.com' }),
        400,
        'invalid_target',
      );
    });

    it('refuses invalid subject tokens and unsupported token types, and clients not allowed to exchange', async () => {
      const tokens = await userTokens();
      expectOAuthError(await exchange('a.b.c'), 400, 'invalid_grant');
      expectOAuthError(
        await exchange(tokens.body.access_token, {
          subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
        }),
        400,
        'invalid_request',
      );
      expectOAuthError(
        await exchange(tokens.body.access_token, { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
        400,
        'invalid_request',
      );
      expectOAuthError(await exchange(tokens.body.access_token, { subject_token_type: '' }), 400, 'invalid_request');
      const notAllowed = await postForm(
        url('/oauth/token'),
        { grant_type: EXCHANGE, subject_token: tokens.body.access_token, subject_token_type: ACCESS_TOKEN_TYPE },
        { authorization: basic(app.id, app.secret) },
      );
      expectOAuthError(notAllowed, 400, 'unauthorized_client');
      // A revoked subject token cannot be exchanged.
      await postForm(
        url('/oauth/revoke'),
        { token: tokens.body.access_token },
        { authorization: basic(app.id, app.secret) },
      );
      expectOAuthError(await exchange(tokens.body.access_token), 400, 'invalid_grant');
    });
  });
});

/**
 * The token-exchange example of docs/oauth.md, step by step as written there (issue 14 item 5):
 * the YAML block is the configuration, the `gatehouse` lines run through the CLI, the curl
 * requests are sent with the parameters the doc gives. It failed as written before the doc
 * showed `tokens.audiences` (`invalid_target`).
 */
describe.each(storeKinds())('the token-exchange example of docs/oauth.md on %s', (kind) => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/oauth.md', import.meta.url)), 'utf8');
  const start = doc.indexOf('### Token exchange (RFC 8693)');
  const section = doc.slice(start, doc.indexOf('\n### ', start + 1));
  const block = (language: string) => {
    const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section);
    if (!match?.[1]) throw new Error(`docs/oauth.md: no ${language} block in the token exchange section`);
    return match[1];
  };
  /** Shell commands with their continuation lines joined, comments dropped. */
  const commands = block('sh')
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const command = (pattern: RegExp) => {
    const found = commands.find((line) => pattern.test(line));
    if (!found) throw new Error(`docs/oauth.md: no command matching ${pattern}`);
    return found;
  };
  const words = (line: string) => (line.split('#')[0] as string).trim().split(/\s+/).slice(1);
  const password = 'pw-alice-long-enough-5521';
  const dir = tempDir();
  let server: TestServer;
  beforeAll(async () => {
    const configFile = path.join(dir.path, 'gatehouse.yaml');
    writeFileSync(configFile, block('yaml'));
    expect(command(/^gatehouse serve /)).toBe('gatehouse serve --config gatehouse.yaml');
    server = await startTestServer(kind, { configFile });
  });
  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  it('runs as written: login for the listed audience, then exchange for a read-only token', async () => {
    const admin = ['--admin-url', server.adminUrl, '--admin-key', server.adminKey];
    const user = await runCli([...words(command(/^gatehouse user create /)), '--password-stdin', ...admin], {
      input: `${password}\n`,
    });
    expect(user.stderr).toBe('');
    expect(user.code).toBe(0);
    const created = await runCli([...words(command(/^gatehouse client create /)), '--json', ...admin]);
    expect(created.code, created.stderr).toBe(0);
    const gateway = JSON.parse(created.stdout) as { client_id: string; client_secret: string };

    const login = command(/\/auth\/login/);
    const loginBody = JSON.parse(/-d '([^']+)'/.exec(login)?.[1] as string) as Record<string, string>;
    expect(login).toContain('http://127.0.0.1:4000/auth/login');
    const signedIn = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...loginBody, password }),
    });
    const subjectToken = ((await signedIn.json()) as { access_token: string }).access_token;
    expect(signedIn.status).toBe(200);

    const exchangeLine = command(/grant-type:token-exchange .*\/oauth\/token$/);
    expect(exchangeLine).toMatch(/^curl -u "\$GATEWAY_ID:\$GATEWAY_SECRET" /);
    const params = Object.fromEntries(
      [...exchangeLine.matchAll(/-d ([a-z_]+)=("[^"]*"|\S+)/g)].map(([, name, value]) => [
        name as string,
        (value as string).replace(/^"|"$/g, '').replace('$TOKEN', subjectToken),
      ]),
    );
    expect(Object.keys(params).sort()).toEqual([
      'audience',
      'grant_type',
      'scope',
      'subject_token',
      'subject_token_type',
    ]);
    const exchanged = await postForm(url(server, '/oauth/token'), params, {
      authorization: basic(gateway.client_id, gateway.client_secret),
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    // The answer the doc shows.
    const shown = /# (\{"access_token".*\})/.exec(block('sh'))?.[1] as string;
    expect(Object.keys(exchanged.body)).toEqual(Object.keys(JSON.parse(shown)));
    expect(exchanged.body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'read' });
    expect(exchanged.body.expires_in).toBeLessThanOrEqual(900);
    expect(claimsOf(exchanged.body.access_token)).toMatchObject({
      aud: 'https://stock.example.com',
      act: { sub: gateway.client_id },
      scope: 'read',
    });
    // /auth/verify accepts it: its audience is one of tokens.audiences.
    const verified = await fetch(`${server.publicUrl}/auth/verify`, {
      headers: { authorization: `Bearer ${exchanged.body.access_token}` },
    });
    expect(verified.status).toBe(200);

    // What the doc warns of: a login token for the issuer alone cannot become a stock token.
    const plain = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: loginBody.username, password }),
    });
    const issuerOnly = ((await plain.json()) as { access_token: string }).access_token;
    const refused = await postForm(
      url(server, '/oauth/token'),
      { ...params, subject_token: issuerOnly },
      { authorization: basic(gateway.client_id, gateway.client_secret) },
    );
    expectOAuthError(refused, 400, 'invalid_target');
    expect(section.replace(/\s+/g, ' ')).toContain(`("${refused.body.error_description}")`);
  });
});

const url = (server: TestServer, route: string) => `${server.publicUrl}${route}`;
