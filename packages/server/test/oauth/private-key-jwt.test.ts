/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, §3; OIDC Core §9) with the client's
 * registered JWKS or JWKS URI; each assertion `jti` is single-use (docs/security.md #18).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectOAuthError, postForm, registerClient } from './support.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe.each(storeKinds())('private_key_jwt on %s', (kind) => {
  let server: TestServer;
  let jwksServer: http.Server;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let otherKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  let inlineClient: string;
  let uriClient: string;
  const tokenUrl = () => `${server.publicUrl}/oauth/token`;

  const assertion = (
    clientId: string,
    overrides: { aud?: string; exp?: number; jti?: string; key?: typeof keys } = {},
  ) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(overrides.aud ?? tokenUrl())
      .setIssuedAt()
      .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 60)
      .setJti(overrides.jti ?? randomUUID())
      .sign((overrides.key ?? keys).privateKey);

  const request = (clientId: string | undefined, jwt: string) =>
    postForm(tokenUrl(), {
      grant_type: 'client_credentials',
      ...(clientId ? { client_id: clientId } : {}),
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    });

  beforeAll(async () => {
    // The JWKS server is on loopback over plain http: the outbound fetch policy allows that only
    // when allowlisted and in dev mode (docs/security.md, "Outbound fetches").
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true', GATEHOUSE_OUTBOUND_ALLOW: '127.0.0.1' } });
    keys = await generateKeyPair('ES256');
    otherKeys = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwksServer = http.createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const port = (jwksServer.address() as AddressInfo).port;
    const base = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', scope: 'jobs' };
    const inline = await registerClient(server, { ...base, jwks: { keys: [jwk] } });
    expect(inline.secret).toBeUndefined();
    inlineClient = inline.id;
    uriClient = (await registerClient(server, { ...base, jwks_uri: `http://127.0.0.1:${port}/jwks.json` })).id;
  });
  afterAll(async () => {
    await server?.stop();
    jwksServer?.close();
  });

  it('authenticates with an assertion verified against the registered JWKS or JWKS URI', async () => {
    for (const clientId of [inlineClient, uriClient]) {
      const response = await request(clientId, await assertion(clientId));
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.scope).toBe('jobs');
      // client_id may be omitted: the assertion's sub names the client (RFC 7523 §3).
      expect((await request(undefined, await assertion(clientId))).status).toBe(200);
      // The issuer is an accepted audience too.
      expect(
        (await request(clientId, await assertion(clientId, { aud: server.running.services.config.issuer }))).status,
      ).toBe(200);
    }
  });

  it('refuses a replayed jti (docs/security.md #18)', async () => {
    const jwt = await assertion(inlineClient);
    expect((await request(inlineClient, jwt)).status).toBe(200);
    expectOAuthError(await request(inlineClient, jwt), 401, 'invalid_client');
  });

  it('refuses a wrong key, a wrong audience, an expired or far-future assertion, and a mismatched client_id', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      await assertion(inlineClient, { key: otherKeys }),
      await assertion(inlineClient, { aud: 'https://elsewhere.example.com/token' }),
      await assertion(inlineClient, { exp: now - 120 }),
      await assertion(inlineClient, { exp: now + 3600 }),
    ];
    for (const jwt of cases) expectOAuthError(await request(inlineClient, jwt), 401, 'invalid_client');
    expectOAuthError(await request(uriClient, await assertion(inlineClient)), 401, 'invalid_client');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: inlineClient, sub: inlineClient, aud: tokenUrl(), exp: now + 60, jti: 'x' }),
    ).toString('base64url')}.`;
    expectOAuthError(await request(inlineClient, unsigned), 401, 'invalid_client');
  });

  it('refuses a wrong assertion type, and an assertion together with a secret (one method per request)', async () => {
    const jwt = await assertion(inlineClient);
    expectOAuthError(
      await postForm(tokenUrl(), {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:x',
        client_assertion: jwt,
      }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await postForm(tokenUrl(), {
        grant_type: 'client_credentials',
        client_id: inlineClient,
        client_secret: 'x',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: jwt,
      }),
      400,
      'invalid_request',
    );
    // A private_key_jwt client cannot fall back to sending no credential.
    expectOAuthError(
      await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: inlineClient }),
      401,
      'invalid_client',
    );
  });

  it('refuses private or symmetric keys at registration', async () => {
    const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const response = await server.admin('POST', '/admin/v1/clients', {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [privateJwk] },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('jwks.keys.0');
  });
});
