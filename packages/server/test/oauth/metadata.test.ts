/**
 * Discovery (RFC 8414, OIDC Discovery): the documents list exactly what is supported, and the
 * issuer is the configured one, unchanged (docs/security.md #25).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { httpsGet, makeSelfSignedCertificate, type TestCertificate } from '../support/tls.js';

describe('authorization server metadata', () => {
  let server: TestServer;
  beforeAll(async () => {
    // OIDC Discovery §3: RS256 must be offered; it is with keys.algorithm RS256.
    server = await startTestServer('sqlite', { env: { GATEHOUSE_KEYS_ALGORITHM: 'RS256' } });
  });
  afterAll(async () => server?.stop());

  it('serves the same document at both well-known paths with the exact issuer', async () => {
    const issuer = server.running.services.config.issuer;
    const oauth = await fetch(`${server.publicUrl}/.well-known/oauth-authorization-server`);
    const oidc = await fetch(`${server.publicUrl}/.well-known/openid-configuration`);
    expect(oauth.status).toBe(200);
    expect(oauth.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await oauth.json();
    expect(await oidc.json()).toEqual(body);
    expect(body.issuer).toBe(issuer);
    expect(body).toMatchObject({
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      subject_types_supported: ['public'],
      request_uri_parameter_supported: false,
    });
    expect(body.id_token_signing_alg_values_supported).toContain('RS256');
    expect(body.grant_types_supported).not.toContain('implicit');
    expect(body.grant_types_supported).not.toContain('password');
    expect(body.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
  });

  it('publishes public keys only in the JWKS (docs/security.md #25)', async () => {
    const jwks = await (await fetch(`${server.publicUrl}/.well-known/jwks.json`)).json();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
    }
  });
});

describe('behind a TLS-terminating proxy (https issuer with a path)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { env: { GATEHOUSE_ISSUER: 'https://auth.example.com/gatehouse' } });
  });
  afterAll(async () => server?.stop());

  it('serves RFC 8414 §3.1 metadata under the issuer path, with the issuer unchanged', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server/gatehouse',
      '/gatehouse/.well-known/openid-configuration',
    ]) {
      const response = await fetch(`${server.publicUrl}${path}`);
      expect(response.status, path).toBe(200);
      const body = await response.json();
      expect(body.issuer).toBe('https://auth.example.com/gatehouse');
      expect(body.token_endpoint).toBe('https://auth.example.com/gatehouse/oauth/token');
    }
  });

  it('sets Secure, __Host- session cookies (HttpOnly, SameSite=Lax)', async () => {
    const client = await server.admin('POST', '/admin/v1/clients', {
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
      scope: 'openid',
    });
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: client.body.client_id,
      redirect_uri: 'https://app.example.com/cb',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const response = await fetch(`${server.publicUrl}/oauth/authorize?${params}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie()[0] as string;
    expect(cookie).toMatch(/^__Host-gatehouse_browser=[A-Za-z0-9_-]{43}; /);
    for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) expect(cookie).toContain(attribute);
    expect(cookie).not.toMatch(/Domain=/i);
  });
});

describe.runIf(peer('openssl').present)('served over TLS by Gatehouse itself (default issuer)', () => {
  let server: TestServer;
  let dir: { path: string; remove(): void };
  let certificate: TestCertificate;
  beforeAll(async () => {
    dir = tempDir();
    certificate = makeSelfSignedCertificate(dir.path);
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_TLS_CERT: certificate.certFile, GATEHOUSE_TLS_KEY_FILE: certificate.keyFile },
    });
  });
  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('names the https address it listens on as the issuer of metadata and tokens', async () => {
    expect(server.publicUrl).toMatch(/^https:\/\//);
    const metadata = await httpsGet(`${server.publicUrl}/.well-known/openid-configuration`, certificate.cert);
    expect(metadata.body.issuer).toBe(server.publicUrl);
    expect(metadata.body.token_endpoint).toBe(`${server.publicUrl}/oauth/token`);
    // Served over TLS: the session cookies are Secure by default.
    expect(server.running.services.config.oauth.secureCookies).toBe(true);
  });
});
