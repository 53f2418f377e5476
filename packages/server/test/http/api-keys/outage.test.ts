/**
 * Fail closed when the store is unreachable (docs/security.md #35; the store-outage decision at the top
 * of docs/security.md). The outage is real: the server talks to PostgreSQL through a TCP proxy that the
 * test cuts. (An embedded SQLite file cannot become unreachable this way.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../../src/core/apikeys/key-format.js';
import { INVALID_KEY_BODY, issueKey, verify, verifyStatus } from '../../support/api-keys.js';
import { manualClock } from '../../support/clock.js';
import { peer } from '../../support/peers.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { postgresBehindProxy } from '../../support/tcp-proxy.js';

function neverIssued(): string {
  const body = `gk_${'Q'.repeat(43)}`;
  return body + checksumOf(body);
}

async function expectUnavailable(response: Response, label: string): Promise<void> {
  expect(response.status, label).toBe(503);
  expect(response.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
  expect(response.headers.get('retry-after'), label).toBe('5');
  expect(response.headers.get('x-auth-subject'), label).toBeNull();
  expect((await response.json()).type, label).toBe('urn:gatehouse:problem:store-unavailable');
}

describe.runIf(peer('postgres').present)('API key verification while PostgreSQL is unreachable', () => {
  for (const staleIfError of ['0', '5m']) {
    describe(`with apikeys.stale_if_error=${staleIfError}`, () => {
      const clock = manualClock();
      let behindProxy: Awaited<ReturnType<typeof postgresBehindProxy>>;
      let server: TestServer;
      let plain: { key: string };
      let metered: { key: string };
      let expiring: { key: string };
      let uncached: { key: string };

      beforeAll(async () => {
        behindProxy = await postgresBehindProxy();
        server = await startTestServer('postgres', {
          clock,
          databaseUrl: behindProxy.serverUrl,
          env: { GATEHOUSE_APIKEYS_STALE_IF_ERROR: staleIfError, GATEHOUSE_APIKEYS_CACHE_TTL: '30s' },
        });
        plain = await issueKey(server, { name: 'plain' });
        metered = await issueKey(server, { name: 'metered', remaining_uses: 100 });
        expiring = await issueKey(server, { name: 'expiring', expires_in: 60 });
        uncached = await issueKey(server, { name: 'never verified before the outage' });
        for (const issued of [plain, metered, expiring]) expect(await verifyStatus(server, issued.key)).toBe(200);
        await behindProxy.proxy.cut();
      });
      afterAll(async () => {
        await behindProxy?.proxy.restore().catch(() => {});
        await server?.stop();
        await behindProxy?.drop();
      });

      it('answers 503 for keys only the store knows, and never 2xx', async () => {
        await expectUnavailable(await verify(server, { 'x-api-key': uncached.key }), 'uncached key');
        await expectUnavailable(await verify(server, { 'x-api-key': neverIssued() }), 'unknown key');
        // A use count lives in the store: no cache may answer for it.
        await expectUnavailable(await verify(server, { 'x-api-key': metered.key }), 'metered key');
      });

      it('still refuses malformed keys with 401: the format decides without the store', async () => {
        const response = await verify(server, { 'x-api-key': `${plain.key.slice(0, -1)}!` });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual(INVALID_KEY_BODY);
      });

      it('answers a key verified within the cache TTL from memory', async () => {
        clock.advance(29_000);
        expect(await verifyStatus(server, plain.key)).toBe(200);
      });

      it('never answers for an expired key, cached or stale', async () => {
        clock.advance(32_000); // t0 + 61 s: past the TTL and past the key's expiry
        const response = await verify(server, { 'x-api-key': expiring.key });
        // Stale entry: refused by the expiry check (401). No stale entry: the store is needed (503).
        expect(response.status).toBe(staleIfError === '0' ? 503 : 401);
      });

      it(
        staleIfError === '0'
          ? 'fails closed once the cache TTL is over (stale_if_error off, the default)'
          : 'keeps answering a known key within stale_if_error past the TTL, and no longer',
        async () => {
          if (staleIfError === '0') {
            await expectUnavailable(await verify(server, { 'x-api-key': plain.key }), 'after TTL');
            return;
          }
          expect(await verifyStatus(server, plain.key)).toBe(200);
          clock.advance(30_000 + 5 * 60_000 - 61_000 - 1); // the last millisecond of the window
          expect(await verifyStatus(server, plain.key)).toBe(200);
          clock.advance(1);
          await expectUnavailable(await verify(server, { 'x-api-key': plain.key }), 'after the stale window');
        },
      );

      it('recovers once the store is back', async () => {
        await behindProxy.proxy.restore();
        expect(await verifyStatus(server, uncached.key)).toBe(200);
        expect(await verifyStatus(server, metered.key)).toBe(200);
      });
    });
  }
});
