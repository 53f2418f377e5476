/** `@gatehouse/sdk/fastify` in a real Fastify 5 app: the plugin, per-route config, and the preHandler. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createVerifier, GatehouseAuthError, type Verifier } from '../../src/index.js';
import { gatehouse, gatehousePreHandler } from '../../src/middleware/fastify.js';
import { startIssuer } from '../support/issuer.js';
import { describeIdentity, middlewareContract } from './contract.js';

async function started(app: ReturnType<typeof Fastify>) {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

middlewareContract('Fastify plugin', async (verifier: Verifier) => {
  const app = Fastify();
  await app.register(async (scope) => {
    await scope.register(gatehouse, { verifier });
    scope.get('/me', async (request) => describeIdentity(request.auth as never));
    scope.get('/write', { config: { gatehouse: { scopes: ['write'] } } }, async () => ({ ok: true }));
    scope.get('/public', { config: { gatehouse: { optional: true } } }, async (request) => ({
      subject: request.auth?.subject ?? null,
    }));
  });
  return started(app);
});

middlewareContract('Fastify preHandler', async (verifier: Verifier) => {
  const app = Fastify();
  app.decorateRequest('auth', undefined);
  app.get('/me', { preHandler: gatehousePreHandler(verifier) }, async (request) =>
    describeIdentity(request.auth as never),
  );
  app.get('/write', { preHandler: gatehousePreHandler(verifier, { scopes: ['write'] }) }, async () => ({ ok: true }));
  app.get('/public', { preHandler: gatehousePreHandler(verifier, { optional: true }) }, async (request) => ({
    subject: request.auth?.subject ?? null,
  }));
  return started(app);
});

describe('Fastify plugin', () => {
  it('protects only its encapsulation context, lets a route opt out, and throws to the error handler with respond: false', async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience });
    const app = Fastify();
    app.get('/outside', async () => ({ open: true }));
    await app.register(async (scope) => {
      await scope.register(gatehouse, { verifier, respond: false });
      scope.setErrorHandler((error, _request, reply) => {
        if (error instanceof GatehouseAuthError) return reply.code(error.status).send({ mine: error.code });
        return reply.code(500).send();
      });
      scope.get('/inside', async (request) => ({ subject: request.auth?.subject }));
      scope.get('/health', { config: { gatehouse: false } }, async () => ({ ok: true }));
    });
    const running = await started(app);
    try {
      expect((await fetch(`${running.url}/outside`)).status).toBe(200);
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
      const refused = await fetch(`${running.url}/inside`);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ mine: 'ERR_NO_CREDENTIALS' });
      const allowed = await fetch(`${running.url}/inside`, {
        headers: { authorization: `Bearer ${await issuer.sign()}` },
      });
      expect(await allowed.json()).toEqual({ subject: 'usr_alice' });
    } finally {
      await running.close();
      await issuer.close();
    }
  });

  it('refuses before the body is read (onRequest): an upload without credentials is answered 401 and never parsed', async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience });
    const app = Fastify();
    let parsed = false;
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
      parsed = true;
      payload.resume();
      payload.on('end', () => done(null, null));
    });
    await app.register(gatehouse, { verifier });
    app.post('/upload', async () => ({ ok: true }));
    const running = await started(app);
    try {
      const response = await fetch(`${running.url}/upload`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(64 * 1024),
      });
      expect(response.status).toBe(401);
      expect(parsed).toBe(false);
    } finally {
      await running.close();
      await issuer.close();
    }
  });
});
