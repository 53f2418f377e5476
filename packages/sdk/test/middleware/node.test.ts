/** `@gatehouse/sdk/node` in a plain node:http server. */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createVerifier, InvalidTokenError } from '../../src/index.js';
import { authenticate, gatehouse, withAuth } from '../../src/middleware/node.js';
import { startIssuer } from '../support/issuer.js';
import { listen } from '../support/listen.js';
import { describeIdentity, middlewareContract } from './contract.js';

const json = (res: http.ServerResponse, body: unknown) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

middlewareContract('node:http', async (verifier) => {
  const me = withAuth(verifier, (req, res) => json(res, describeIdentity(req.auth as never)));
  const server = http.createServer(async (req, res) => {
    if (req.url === '/me') return me(req, res);
    if (req.url === '/write') {
      const identity = await authenticate(verifier, req, res, { scopes: ['write'] });
      if (identity) json(res, { ok: true });
      return;
    }
    if (req.url === '/public') {
      const identity = await authenticate(verifier, req, res, { optional: true });
      if (!res.writableEnded) json(res, { subject: identity?.subject ?? null });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  return listen(server);
});

describe('node:http connect-style middleware', () => {
  it('hands the error to next() with respond: false', async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience });
    const middleware = gatehouse(verifier, { respond: false });
    const server = http.createServer((req, res) => {
      middleware(req, res, (error?: unknown) => {
        if (error instanceof InvalidTokenError) return json(res, { handledByApp: error.code, status: error.status });
        json(res, { subject: (req as { auth?: { subject: string } }).auth?.subject });
      });
    });
    const app = await listen(server);
    try {
      const ok = await fetch(`${app.url}/`, { headers: { authorization: `Bearer ${await issuer.sign()}` } });
      expect(await ok.json()).toEqual({ subject: 'usr_alice' });
      const bad = await fetch(`${app.url}/`, { headers: { authorization: 'Bearer a.b.c' } });
      expect(bad.status).toBe(200);
      expect(await bad.json()).toEqual({ handledByApp: 'ERR_JWT_MALFORMED', status: 401 });
    } finally {
      await app.close();
      await issuer.close();
    }
  });
});
