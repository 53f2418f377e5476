/** `@gatehouse/sdk/express` in real Express 5 and Express 4 apps. */
import type { Server } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { createVerifier, GatehouseAuthError, type Verifier } from '../../src/index.js';
import { gatehouse, requireScopes } from '../../src/middleware/express.js';
import { startIssuer } from '../support/issuer.js';
import { listen } from '../support/listen.js';
import { describeIdentity, middlewareContract } from './contract.js';

function app(factory: typeof express, verifier: Verifier) {
  const instance = factory();
  instance.get('/me', gatehouse(verifier), (req, res) => {
    res.json(describeIdentity(req.auth as never));
  });
  instance.get('/write', gatehouse(verifier), requireScopes('write'), (_req, res) => {
    res.json({ ok: true });
  });
  instance.get('/public', gatehouse(verifier, { optional: true }), (req, res) => {
    res.json({ subject: req.auth?.subject ?? null });
  });
  return instance;
}

const start = (factory: typeof express) => async (verifier: Verifier) => {
  const server: Server = app(factory, verifier).listen(0, '127.0.0.1');
  return listen(server);
};

middlewareContract('Express 5', start(express));
middlewareContract('Express 4', start(express4));

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])('%s with respond: false', (_name, factory) => {
  it('passes the typed error to the app’s error handler, which sees its status and code', async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience });
    const instance = factory();
    instance.get('/me', gatehouse(verifier, { respond: false }), (req, res) => {
      res.json({ subject: req.auth?.subject });
    });
    instance.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (error instanceof GatehouseAuthError) res.status(error.status).json({ mine: error.code });
      else res.status(500).end();
    });
    const running = await listen(instance.listen(0, '127.0.0.1'));
    try {
      const bad = await fetch(`${running.url}/me`, { headers: { authorization: 'Bearer a.b.c' } });
      expect(bad.status).toBe(401);
      expect(await bad.json()).toEqual({ mine: 'ERR_JWT_MALFORMED' });
      const none = await fetch(`${running.url}/me`);
      expect(await none.json()).toEqual({ mine: 'ERR_NO_CREDENTIALS' });
    } finally {
      await running.close();
      await issuer.close();
    }
  });
});
