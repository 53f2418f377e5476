/**
 * The SDK's service-to-service side against a real Gatehouse OAuth server (in-process, real
 * store, real HTTP): client credentials with a secret and with private_key_jwt (endpoints
 * discovered from the server's metadata), the fetch wrapper into a service protected by the SDK,
 * token exchange for an on-behalf-of call, and opaque-token introspection with the service's own
 * client credentials.
 */
import type { Server } from 'node:http';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../../server/test/support/databases.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { createClientCredentials, createVerifier, OAuthError } from '../src/index.js';
import { gatehouse } from '../src/middleware/express.js';
import { listen } from './support/listen.js';
import { refusal } from './support/refusal.js';

const ORDERS = 'https://orders.example.test';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

describe.each(storeKinds())('service-to-service against a real Gatehouse on %s', (kind) => {
  let server: TestServer;
  const register = async (body: Record<string, unknown>) => {
    const created = await server.admin('POST', '/admin/v1/clients', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.client_id as string, secret: created.body.client_secret as string };
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { env: { GATEHOUSE_TOKENS_AUDIENCES: ORDERS } });
  });
  afterAll(async () => server?.stop());

  it('gets a service token with client_secret_basic and calls a service protected by the SDK', async () => {
    const client = await register({ grant_types: ['client_credentials'], scope: 'orders:read', audience: [ORDERS] });
    const credentials = createClientCredentials({
      issuer: server.publicUrl,
      clientId: client.id,
      clientSecret: client.secret,
      scope: 'orders:read',
      audience: ORDERS,
    });
    const verifier = createVerifier({ issuer: server.publicUrl, audience: ORDERS });
    const app = express();
    app.use(gatehouse(verifier, { scopes: ['orders:read'] }));
    app.get('/orders', (req, res) => res.json({ caller: req.auth?.subject, client: req.auth?.clientId }));
    const service = await listen(app.listen(0, '127.0.0.1') as Server);
    try {
      const response = await credentials.fetch(`${service.url}/orders`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ caller: client.id, client: client.id });
      expect(await credentials.getToken()).toBe(await credentials.getToken());
    } finally {
      await service.close();
    }
    const wrong = createClientCredentials({ issuer: server.publicUrl, clientId: client.id, clientSecret: 'wrong' });
    const error = await wrong.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
  });

  it('authenticates with private_key_jwt (RFC 7523)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const client = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'svc-1', alg: 'ES256', use: 'sig' }] },
      scope: 'orders:read',
      audience: [ORDERS],
    });
    const credentials = createClientCredentials({
      issuer: server.publicUrl,
      clientId: client.id,
      privateKey: { ...(await exportJWK(privateKey)), alg: 'ES256' },
      privateKeyId: 'svc-1',
      scope: 'orders:read',
      audience: ORDERS,
    });
    const verifier = createVerifier({ issuer: server.publicUrl, audience: ORDERS });
    const token = await credentials.getToken();
    expect(await verifier.verify(token)).toMatchObject({ subject: client.id, scopes: ['orders:read'] });
    // A second token needs a second assertion: the jti is single-use.
    const again = await credentials.getToken({ forceRefresh: true });
    expect(again).not.toBe(token);
  });

  it('exchanges a token for an on-behalf-of call (RFC 8693), and introspects opaque tokens', async () => {
    // The caller: a service whose token reaches the gateway.
    const caller = await register({
      grant_types: ['client_credentials'],
      scope: 'orders:read orders:write',
      audience: [ORDERS],
    });
    const callerToken = await createClientCredentials({
      issuer: server.publicUrl,
      clientId: caller.id,
      clientSecret: caller.secret,
      scope: 'orders:read orders:write',
      audience: ORDERS,
    }).getToken();
    const gateway = await register({ grant_types: [EXCHANGE] });
    const credentials = createClientCredentials({
      issuer: server.publicUrl,
      clientId: gateway.id,
      clientSecret: gateway.secret,
    });
    const exchanged = await credentials.exchange({ subjectToken: callerToken, audience: ORDERS, scope: 'orders:read' });
    const verifier = createVerifier({
      issuer: server.publicUrl,
      audience: ORDERS,
      accept: ['jwt', 'opaque'],
      introspection: { clientId: gateway.id, clientSecret: gateway.secret },
    });
    const identity = await verifier.verify(exchanged.accessToken);
    expect(identity).toMatchObject({ subject: caller.id, scopes: ['orders:read'], clientId: gateway.id });
    expect(identity.claims.act).toEqual({ sub: gateway.id });
    // Widening is refused by the server (RFC 8693 §2.2.2), and the SDK says so in OAuth terms.
    const wider = await credentials
      .exchange({ subjectToken: callerToken, audience: 'https://elsewhere.example' })
      .catch((e) => e);
    expect(wider).toBeInstanceOf(OAuthError);
    expect(wider.error).toBe('invalid_target');
    // An opaque token the server does not know: inactive (RFC 7662 §2.2).
    expect((await refusal(verifier.verify('not-a-token-at-all'))).code).toBe('ERR_TOKEN_INACTIVE');
  });
});
