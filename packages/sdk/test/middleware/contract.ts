/**
 * What every middleware must do, over real HTTP against a real instance of its framework
 * (RFC 6750 §3; docs/security.md #11, #28, #35). Each framework's test file starts an app with:
 * - `GET /me`: requires a credential, answers `{ subject, scopes, method }`;
 * - `GET /write`: requires the `write` scope;
 * - `GET /public`: credential optional, answers `{ subject }` (null when anonymous);
 * and this suite checks statuses, challenges and bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../../../server/test/support/http.js';
import { createVerifier, type Verifier } from '../../src/index.js';
import { startIssuer, type TestIssuer } from '../support/issuer.js';

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

export type StartApp = (verifier: Verifier) => Promise<RunningApp>;

export function middlewareContract(name: string, start: StartApp, makeVerifier = createVerifier): void {
  describe(`${name} middleware (RFC 6750 over real HTTP)`, () => {
    let issuer: TestIssuer;
    let app: RunningApp;
    let token: string;
    beforeAll(async () => {
      issuer = await startIssuer();
      app = await start(makeVerifier({ issuer: issuer.url, audience: issuer.audience }));
      token = await issuer.sign({ scope: 'read' });
    });
    afterAll(async () => {
      await app?.close();
      await issuer?.close();
    });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });

    it('sets the identity for a valid token', async () => {
      const response = await get('/me', { authorization: `Bearer ${token}` });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ subject: 'usr_alice', scopes: ['read'], method: 'jwt' });
    });

    it('answers 401 with a bare Bearer challenge and no error code when no credential is sent (RFC 6750 §3.1)', async () => {
      const response = await get('/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({ error: 'unauthorized', error_description: 'Authentication is required' });
    });

    it('answers 401 invalid_token for a tampered token (docs/security.md #11)', async () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const tampered = [h, Buffer.from(JSON.stringify({ ...claims, sub: 'usr_admin' })).toString('base64url'), s].join(
        '.',
      );
      const response = await get('/me', { authorization: `Bearer ${tampered}` });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="The access token is invalid"',
      );
      expect(await response.json()).toEqual({
        error: 'invalid_token',
        error_description: 'The access token is invalid',
      });
    });

    it('answers 403 insufficient_scope with the scope attribute (RFC 6750 §3)', async () => {
      const response = await get('/write', { authorization: `Bearer ${token}` });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", error_description="The credential lacks the required scope: write", scope="write"',
      );
      expect((await response.json()).error).toBe('insufficient_scope');
      const allowed = await get('/write', { authorization: `Bearer ${await issuer.sign({ scope: 'read write' })}` });
      expect(allowed.status).toBe(200);
    });

    it('answers 400 invalid_request for two Authorization headers (docs/security.md #28) and a malformed one', async () => {
      const twice = await rawRequest(`${app.url}/me`, {
        headers: [
          ['Authorization', `Bearer ${token}`],
          ['authorization', 'Bearer other'],
        ],
      });
      expect(twice.status).toBe(400);
      expect(twice.json().error).toBe('invalid_request');
      expect(String(twice.headers['www-authenticate'])).toMatch(/^Bearer error="invalid_request"/);
      const malformed = await get('/me', { authorization: 'Bearer two words' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toEqual({
        error: 'invalid_request',
        error_description: 'The Bearer credentials are malformed',
      });
      const both = await get('/me', { authorization: `Bearer ${token}`, 'x-api-key': 'key_123' });
      expect(both.status).toBe(400);
    });

    it('lets anonymous requests through an optional route, but still refuses a bad token', async () => {
      const anonymous = await get('/public');
      expect(anonymous.status).toBe(200);
      expect(await anonymous.json()).toEqual({ subject: null });
      const known = await get('/public', { authorization: `Bearer ${token}` });
      expect(await known.json()).toEqual({ subject: 'usr_alice' });
      const bad = await get('/public', { authorization: 'Bearer not.a.token' });
      expect(bad.status).toBe(401);
    });

    it('fails closed with 503 and Retry-After when keys cannot be fetched (docs/security.md #35)', async () => {
      const broken = await start(
        makeVerifier({ issuer: 'http://127.0.0.1:9', audience: issuer.audience, timeout: 500 }),
      );
      try {
        const response = await fetch(`${broken.url}/me`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(response.headers.get('www-authenticate')).toBeNull();
        expect((await response.json()).error).toBe('temporarily_unavailable');
      } finally {
        await broken.close();
      }
    });
  });
}

/** The `/me` answer. */
export const describeIdentity = (identity: { subject: string; scopes: readonly string[]; method: string }) => ({
  subject: identity.subject,
  scopes: identity.scopes,
  method: identity.method,
});
