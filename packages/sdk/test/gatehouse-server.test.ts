/**
 * The SDK against a real Gatehouse server (in-process, real store, real HTTP), on every store: a
 * token from `/auth/login` is accepted by a service protected by the Express middleware (keys
 * discovered from the server) and a tampered one refused; Basic credentials are verified through
 * the server's `/auth/verify`; cached keys keep working when the server goes away, and a verifier
 * that never had keys fails closed.
 */
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../../server/test/support/databases.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { createVerifier, InvalidTokenError, type Verifier } from '../src/index.js';
import { gatehouse } from '../src/middleware/express.js';
import { listen } from './support/listen.js';
import { refusal } from './support/refusal.js';

const ORDERS = 'https://orders.example.test';
const alice = { username: 'alice', password: 'correct horse battery staple', scopes: ['orders:read', 'profile'] };

describe.each(storeKinds())('the SDK against a real Gatehouse on %s', (kind) => {
  let server: TestServer;
  let aliceId: string;
  let service: { url: string; close(): Promise<void> };
  let verifier: Verifier;

  const login = async (extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: alice.username, password: alice.password, ...extra }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    server = await startTestServer(kind, {
      env: {
        GATEHOUSE_TOKENS_AUDIENCES: ORDERS,
        // Gatehouse takes Basic over HTTPS only; the service here reaches it over loopback.
        GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true',
      },
    });
    const created = await server.admin('POST', '/admin/v1/users', alice);
    expect(created.status).toBe(201);
    aliceId = created.body.id;
    // The README's service: one verifier, one middleware.
    verifier = createVerifier({ issuer: server.publicUrl, audience: ORDERS, accept: ['jwt', 'basic'] });
    const app = express();
    app.use(gatehouse(verifier));
    app.get('/orders', (req, res) => {
      res.json({ user: req.auth?.subject, scopes: req.auth?.scopes, method: req.auth?.method });
    });
    service = await listen(app.listen(0, '127.0.0.1') as Server);
  });
  afterAll(async () => {
    await service?.close();
    await server?.stop();
  });

  it('accepts a token from /auth/login and refuses a tampered one', async () => {
    const token = await login({ audience: ORDERS });
    const accepted = await fetch(`${service.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ user: aliceId, scopes: ['orders:read', 'profile'], method: 'jwt' });

    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'orders:read orders:write admin' })).toString(
      'base64url',
    );
    const refused = await fetch(`${service.url}/orders`, { headers: { authorization: `Bearer ${h}.${forged}.${s}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);

    // A token for the server's default audience is not one for this service (docs/security.md #8).
    const elsewhere = await refusal(verifier.verify(await login()));
    expect(elsewhere.code).toBe('ERR_JWT_AUDIENCE');
  });

  it('verifies Basic credentials through the server’s /auth/verify', async () => {
    const basic = `Basic ${Buffer.from(`${alice.username}:${alice.password}`).toString('base64')}`;
    const identity = await verifier.verifyRequest({ authorization: basic });
    expect(identity).toMatchObject({ subject: aliceId, method: 'basic' });
    const wrong = `Basic ${Buffer.from(`${alice.username}:not the password`).toString('base64')}`;
    expect(await refusal(verifier.verifyRequest({ authorization: wrong }))).toBeInstanceOf(InvalidTokenError);
  });

  it('keeps verifying from cached keys when the server goes away; a verifier without keys fails closed', async () => {
    const token = await login({ audience: ORDERS });
    const known = createVerifier({ issuer: server.publicUrl, audience: ORDERS });
    await known.ready();
    await server.stop();
    await expect(known.verify(token)).resolves.toMatchObject({ subject: aliceId });
    const late = createVerifier({ issuer: server.publicUrl, audience: ORDERS, timeout: 1000 });
    const error = await refusal(late.verify(token));
    expect(error).toMatchObject({ status: 503, code: 'ERR_REMOTE_UNREACHABLE' });
  });
});
