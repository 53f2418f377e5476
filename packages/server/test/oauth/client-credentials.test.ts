/**
 * The token endpoint with the client credentials grant (RFC 6749 §4.4), client authentication
 * (RFC 6749 §2.3) and the RFC 6749 §5.2 errors, on every store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { basic, claimsOf, expectOAuthError, postForm, type RegisteredClient, registerClient } from './support.js';

describe.each(storeKinds())('client credentials on %s', (kind) => {
  let server: TestServer;
  let token: string;
  let service: RegisteredClient;
  let targeted: RegisteredClient;
  let postClient: RegisteredClient;
  beforeAll(async () => {
    server = await startTestServer(kind);
    token = `${server.publicUrl}/oauth/token`;
    service = await registerClient(server, {
      client_name: 'billing',
      grant_types: ['client_credentials'],
      scope: 'invoices:read invoices:write',
      token_endpoint_auth_method: 'client_secret_post',
    });
    targeted = await registerClient(server, {
      grant_types: ['client_credentials'],
      audience: ['https://api.example.com', 'https://other.example.com'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    postClient = service;
  });
  afterAll(async () => server?.stop());

  it('answers the seed form exactly: client_id, client_secret and grant_type in the body', async () => {
    const response = await postForm(
      token,
      `client_id=${service.id}&client_secret=${service.secret}&grant_type=client_credentials`,
    );
    expect(response.status).toBe(200);
    // RFC 6749 §5.1 / docs/security.md #19.
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      scope: 'invoices:read invoices:write',
    });
    const claims = claimsOf(response.body.access_token);
    // docs/security.md #9 and #21: RFC 9068 claims; sub is the client id; the default audience.
    const issuer = server.running.services.config.issuer;
    expect(claims).toMatchObject({ iss: issuer, sub: service.id, client_id: service.id, aud: issuer });
    for (const claim of ['exp', 'iat', 'jti', 'aud']) expect(claims).toHaveProperty(claim);
    const header = JSON.parse(Buffer.from(response.body.access_token.split('.')[0], 'base64url').toString());
    expect(header.typ).toBe('at+jwt');

    // Done when: the token works on /auth/verify.
    const verify = await fetch(`${server.publicUrl}/auth/verify`, {
      headers: { authorization: `Bearer ${response.body.access_token}` },
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('x-auth-method')).toBe('jwt');
    expect(verify.headers.get('x-auth-client-id')).toBe(service.id);
    expect(verify.headers.get('x-auth-subject')).toBe(service.id);
    // Scopes map onto route policies: a scope the token lacks is 403 insufficient_scope (RFC 6750 §3.1).
    const needsDelete = await fetch(`${server.publicUrl}/auth/verify?scope=invoices:delete`, {
      headers: { authorization: `Bearer ${response.body.access_token}` },
    });
    expect(needsDelete.status).toBe(403);
    expect(needsDelete.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  it('authenticates with HTTP Basic (client_secret_basic), form-urlencoding the id and secret (RFC 6749 §2.3.1)', async () => {
    const basicClient = await registerClient(server, {
      client_id: 'reports.svc',
      grant_types: ['client_credentials'],
      scope: 'a b',
    });
    const encoded = `Basic ${Buffer.from(`reports%2Esvc:${basicClient.secret}`).toString('base64')}`;
    const response = await postForm(token, 'grant_type=client_credentials&scope=a', { authorization: encoded });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('a');
    // The registered method must be the one used (client_secret_post client over Basic).
    expectOAuthError(
      await postForm(token, 'grant_type=client_credentials', {
        authorization: basic(postClient.id, postClient.secret),
      }),
      401,
      'invalid_client',
    );
  });

  it('narrows scope on request and refuses scopes the client is not allowed (invalid_scope)', async () => {
    const narrowed = await postForm(token, {
      client_id: service.id,
      client_secret: service.secret,
      grant_type: 'client_credentials',
      scope: 'invoices:read',
    });
    expect(narrowed.body.scope).toBe('invoices:read');
    expect(claimsOf(narrowed.body.access_token).scope).toBe('invoices:read');
    expectOAuthError(
      await postForm(token, {
        client_id: service.id,
        client_secret: service.secret,
        grant_type: 'client_credentials',
        scope: 'invoices:read admin',
      }),
      400,
      'invalid_scope',
    );
  });

  it('sets aud from resource (RFC 8707) or audience, only to registered audiences (invalid_target)', async () => {
    const base = { client_id: targeted.id, client_secret: targeted.secret, grant_type: 'client_credentials' };
    // Without resource or audience: the client's registered audiences.
    const registered = await postForm(token, base);
    expect(claimsOf(registered.body.access_token).aud).toEqual([
      'https://api.example.com',
      'https://other.example.com',
    ]);
    const resource = await postForm(token, { ...base, resource: 'https://api.example.com' });
    expect(resource.status).toBe(200);
    expect(claimsOf(resource.body.access_token).aud).toBe('https://api.example.com');
    const audience = await postForm(token, { ...base, audience: 'https://other.example.com' });
    expect(claimsOf(audience.body.access_token).aud).toBe('https://other.example.com');
    expectOAuthError(await postForm(token, { ...base, resource: 'https://evil.example.com' }), 400, 'invalid_target');
    expectOAuthError(await postForm(token, { ...base, resource: 'not a uri' }), 400, 'invalid_target');
  });

  it('answers invalid_client 401 with a challenge for an unknown client and a wrong secret (docs/security.md #18)', async () => {
    for (const form of [
      `client_id=cli_nope&client_secret=${service.secret}&grant_type=client_credentials`,
      `client_id=${service.id}&client_secret=ghcs_wrong&grant_type=client_credentials`,
      'client_id=&grant_type=client_credentials',
    ]) {
      const response = await postForm(token, form);
      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="gatehouse", charset="UTF-8"');
    }
    const badBasic = await postForm(token, 'grant_type=client_credentials', {
      authorization: basic(service.id, 'wrong'),
    });
    expectOAuthError(badBasic, 401, 'invalid_client');
    expect(badBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
    const garbage = await postForm(token, 'grant_type=client_credentials', { authorization: 'Basic !!!' });
    expectOAuthError(garbage, 401, 'invalid_client');
  });

  it('refuses a secret in both the header and the body (RFC 6749 §2.3: one method per request)', async () => {
    const response = await postForm(token, `client_secret=${service.secret}&grant_type=client_credentials`, {
      authorization: basic(service.id, service.secret),
    });
    expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses a grant the client is not allowed (unauthorized_client, docs/security.md #16)', async () => {
    const userApp = await registerClient(server, {
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expectOAuthError(
      await postForm(token, { client_id: userApp.id, client_secret: userApp.secret, grant_type: 'client_credentials' }),
      400,
      'unauthorized_client',
    );
  });

  it('refuses missing, unsupported and implicit/password grant types', async () => {
    const creds = `client_id=${service.id}&client_secret=${service.secret}`;
    expectOAuthError(await postForm(token, creds), 400, 'invalid_request');
    for (const grant of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      expectOAuthError(await postForm(token, `${creds}&grant_type=${grant}`), 400, 'unsupported_grant_type');
    }
  });

  it('refuses repeated parameters (RFC 6749 §3.1, docs/security.md #19), even with equal values', async () => {
    const creds = `client_id=${service.id}&client_secret=${service.secret}`;
    for (const form of [
      `${creds}&grant_type=client_credentials&grant_type=client_credentials`,
      `${creds}&grant_type=client_credentials&scope=invoices:read&scope=invoices:write`,
      `${creds}&client_id=${service.id}&grant_type=client_credentials`,
    ]) {
      const response = await postForm(token, form);
      expectOAuthError(response, 400, 'invalid_request');
      expect(response.body.error_description).toMatch(/more than once/);
    }
    // Empty parameters count as omitted (RFC 6749 §3.1).
    expect((await postForm(token, `${creds}&scope=&grant_type=client_credentials`)).status).toBe(200);
  });

  it('refuses a JSON body, a missing body and other media types with invalid_request', async () => {
    const json = await fetch(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: service.id, client_secret: service.secret, grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expect(await json.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/form-urlencoded/),
    });
    const none = await fetch(token, { method: 'POST' });
    expect(none.status).toBe(400);
    expect((await none.json()).error).toBe('invalid_request');
    const text = await fetch(token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect((await text.json()).error).toBe('invalid_request');
  });

  it('refuses two Authorization headers (docs/security.md #28)', async () => {
    const response = await rawRequest(token, {
      method: 'POST',
      headers: [
        ['content-type', 'application/x-www-form-urlencoded'],
        ['authorization', basic(service.id, service.secret)],
        ['authorization', basic('other', 'x')],
      ],
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(400);
    expect(response.json().error).toBe('invalid_request');
  });

  it('never logs the client secret or the issued token', async () => {
    const response = await postForm(token, {
      client_id: service.id,
      client_secret: service.secret,
      grant_type: 'client_credentials',
    });
    await postForm(token, {
      client_id: service.id,
      client_secret: `${service.secret}x`,
      grant_type: 'client_credentials',
    });
    const logs = server.logs.join('');
    expect(logs).not.toContain(service.secret);
    expect(logs).not.toContain(response.body.access_token);
  });
});
