/**
 * Independent clients drive the flows: `openid-client` (panva's certified relying party library)
 * for discovery, client credentials, authorization code + PKCE (following the login form over
 * HTTP), refresh, userinfo, introspection and revocation; and Python's Authlib (Debian
 * python3-authlib) for client credentials. The server signs with RS256 here, OIDC's default.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Browser } from './browser.js';
import { registerClient } from './support.js';

const run = promisify(execFile);
const REDIRECT = 'https://rp.example.com/callback';

const itWithAuthlib = it.runIf(peer('python3-authlib').present);

describe('independent clients', () => {
  let server: TestServer;
  let issuer: URL;
  let carol: string;
  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_KEYS_ALGORITHM: 'RS256' },
    });
    issuer = new URL(server.running.services.config.issuer);
    carol = (
      await createUser(server, {
        username: 'carol',
        password: 'a long enough passphrase 5521',
        metadata: { name: 'Carol', email: 'carol@example.com' },
      })
    ).id;
  });
  afterAll(async () => server?.stop());

  it('openid-client: discovery, client credentials, introspection and revocation', async () => {
    const service = await registerClient(server, { grant_types: ['client_credentials'], scope: 'reports' });
    // client_secret_basic, the clients' default method (openid-client would otherwise post the secret).
    const config = await oidc.discovery(issuer, service.id, undefined, oidc.ClientSecretBasic(service.secret), {
      execute: [oidc.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).toBe(issuer.href.replace(/\/$/, ''));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reports' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('reports');
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, client_id: service.id, scope: 'reports' });
    await oidc.tokenRevocation(config, tokens.access_token);
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  });

  it('openid-client: authorization code with PKCE through the login and consent pages, userinfo, refresh', async () => {
    const app = await registerClient(server, {
      client_name: 'Relying Party',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid profile email',
    });
    const config = await oidc.discovery(issuer, app.id, undefined, oidc.ClientSecretBasic(app.secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });

    // The browser part, over HTTP, as a person would.
    const browser = new Browser(server.publicUrl);
    const login = await browser.follow(authorizationUrl.href);
    const consent = await browser.submit(login.body, { username: 'carol', password: 'a long enough passphrase 5521' });
    const done = await browser.submit(consent.body, { decision: 'allow' });
    expect(done.url.startsWith(REDIRECT)).toBe(true);

    // openid-client checks state, iss (RFC 9207), the ID token signature (RS256 via jwks_uri), nonce, at_hash.
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ sub: carol, aud: app.id, name: 'Carol' });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, carol);
    expect(userinfo).toMatchObject({ sub: carol, email: 'carol@example.com', preferred_username: 'carol' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
    await oidc.tokenRevocation(config, refreshed.refresh_token as string);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
  });

  itWithAuthlib('Python Authlib: client credentials with client_secret_basic and client_secret_post', async () => {
    const basic = await registerClient(server, { grant_types: ['client_credentials'], scope: 'jobs' });
    const post = await registerClient(server, {
      grant_types: ['client_credentials'],
      scope: 'jobs',
      token_endpoint_auth_method: 'client_secret_post',
    });
    const script = `
import json, sys
from authlib.integrations.requests_client import OAuth2Session
token_url, results = sys.argv[1], []
for client_id, secret, method in [(sys.argv[2], sys.argv[3], 'client_secret_basic'), (sys.argv[4], sys.argv[5], 'client_secret_post')]:
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope='jobs')
    results.append(session.fetch_token(token_url, grant_type='client_credentials'))
print(json.dumps(results))
`;
    const { stdout } = await run('/usr/bin/python3', [
      '-c',
      script,
      `${server.publicUrl}/oauth/token`,
      basic.id,
      basic.secret,
      post.id,
      post.secret,
    ]);
    const results = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({ token_type: 'Bearer', scope: 'jobs', access_token: expect.any(String) });
    }
  });
});
