/** `@gatehouse/sdk/hono` in a real Hono app on @hono/node-server, with the Node and the WebCrypto verifier. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createVerifier as createFetchVerifier } from '../../src/fetch.js';
import { createVerifier, GatehouseAuthError, type Verifier } from '../../src/index.js';
import { type GatehouseEnv, gatehouse, requireScopes } from '../../src/middleware/hono.js';
import { startIssuer } from '../support/issuer.js';
import { serveFetch } from '../support/listen.js';
import { describeIdentity, middlewareContract } from './contract.js';

function app(verifier: Verifier) {
  const hono = new Hono<GatehouseEnv>();
  hono.use('/me', gatehouse(verifier));
  hono.use('/write', gatehouse(verifier), requireScopes('write'));
  hono.use('/public', gatehouse(verifier, { optional: true }));
  hono.get('/me', (c) => c.json(describeIdentity(c.get('auth') as never)));
  hono.get('/write', (c) => c.json({ ok: true }));
  hono.get('/public', (c) => c.json({ subject: c.get('auth')?.subject ?? null }));
  return hono;
}

middlewareContract('Hono (Node verifier)', async (verifier) => serveFetch(app(verifier).fetch));
middlewareContract(
  'Hono (WebCrypto verifier)',
  async (verifier) => serveFetch(app(verifier).fetch),
  createFetchVerifier,
);

describe('Hono with respond: false', () => {
  it('throws the typed error to app.onError', async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience });
    const hono = new Hono<GatehouseEnv>();
    hono.use('*', gatehouse(verifier, { respond: false }));
    hono.get('/me', (c) => c.json({ subject: c.get('auth')?.subject }));
    hono.onError((error, c) =>
      error instanceof GatehouseAuthError ? c.json({ mine: error.code }, error.status) : c.text('', 500),
    );
    const running = await serveFetch(hono.fetch);
    try {
      const response = await fetch(`${running.url}/me`, { headers: { authorization: 'Bearer a.b.c' } });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ mine: 'ERR_JWT_MALFORMED' });
    } finally {
      await running.close();
      await issuer.close();
    }
  });
});
