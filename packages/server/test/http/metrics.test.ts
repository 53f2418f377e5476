/**
 * `/metrics` on the admin listener: Prometheus text, open by default (never behind the admin
 * key), behind `metrics.token` when one is set; never on the public listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('metrics endpoint', () => {
  it('serves Prometheus text on the admin listener without the admin key, and not on the public one', async () => {
    const server = await startTestServer('sqlite');
    try {
      const response = await fetch(`${server.adminUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      expect(text).toContain('# TYPE gatehouse_requests_total counter');
      expect(text).toContain('# TYPE gatehouse_verify_duration_seconds histogram');
      expect(text).toContain('# TYPE gatehouse_upstream_duration_seconds histogram');
      expect(text).toContain('# TYPE gatehouse_cache_lookups_total counter');
      expect(text).toContain('process_cpu_user_seconds_total');
      await fetch(`${server.publicUrl}/auth/verify`);
      const after = await (await fetch(`${server.adminUrl}/metrics`)).text();
      expect(after).toMatch(
        /gatehouse_requests_total\{surface="verify",route="-",mechanism="none",outcome="unauthenticated"\} 1/,
      );
      expect((await fetch(`${server.publicUrl}/metrics`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  describe('with metrics.token', () => {
    const token = 'metrics-token-0123456789-abcdefghijklmnop';
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('sqlite', { env: { GATEHOUSE_METRICS_TOKEN: token } });
    });
    afterAll(async () => server?.stop());

    it('requires the token as a Bearer credential, and refuses the admin key', async () => {
      const attempts: Array<[Record<string, string>, number]> = [
        [{}, 401],
        [{ authorization: `Bearer ${token}x` }, 401],
        [{ authorization: `Bearer ${server.adminKey}` }, 401],
        [{ authorization: `Basic ${token}` }, 401],
        [{ authorization: `Bearer ${token}` }, 200],
      ];
      for (const [headers, status] of attempts) {
        const response = await fetch(`${server.adminUrl}/metrics`, { headers });
        expect(response.status, JSON.stringify(headers)).toBe(status);
        if (status === 401) {
          expect(response.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse-metrics"');
          expect((await response.json()).type).toBe('urn:gatehouse:problem:unauthorized');
        }
      }
      const twice = await rawRequest(`${server.adminUrl}/metrics`, {
        headers: [
          ['Authorization', `Bearer ${token}`],
          ['Authorization', 'Bearer other'],
        ],
      });
      expect(twice.status).toBe(400);
      expect(server.logs.join('')).not.toContain(token);
    });
  });
});
