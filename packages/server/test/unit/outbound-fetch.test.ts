/**
 * The outbound fetch policy adapter (http/outbound/outbound-fetch.ts) against real sockets on
 * loopback: the resolved address of each connection is judged (a name that resolves to 127.0.0.1
 * is refused unless allowlisted), and the cap, timeouts, redirects and scheme rule hold
 * (issue 15 finding 2).
 */
import type dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/core/outbound/address-policy.js';
import {
  createOutboundFetcher,
  DEFAULT_OUTBOUND_POLICY,
  type OutboundPolicy,
} from '../../src/http/outbound/outbound-fetch.js';

/** A resolver that maps every name onto 127.0.0.1, as a hostile or rebinding DNS would. */
const toLoopback = ((_host: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}) as unknown as typeof dns.lookup;

const allow = (...entries: string[]) => {
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
};

describe('outbound fetch policy', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hits++;
      if (request.url === '/ok') return response.end('{"keys":[]}');
      if (request.url === '/redirect') {
        response.writeHead(301, { location: '/ok' });
        return response.end();
      }
      if (request.url === '/error') {
        response.writeHead(500);
        return response.end();
      }
      if (request.url === '/big') {
        response.write('x'.repeat(3000));
        response.write('x'.repeat(3000));
        return response.end();
      }
      // /slow: headers, then nothing.
      response.writeHead(200);
      response.flushHeaders();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const fetcher = (overrides: Partial<OutboundPolicy> = {}) =>
    createOutboundFetcher({ ...DEFAULT_OUTBOUND_POLICY, allowHttp: true, resolve: toLoopback, ...overrides });

  it('refuses a name whose resolved address is loopback, before connecting', async () => {
    const before = hits;
    const result = await fetcher().get(`http://keys.example.test:${port}/ok`);
    expect(result).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(hits).toBe(before);
  });

  it('refuses loopback literals in every form, before connecting', async () => {
    const before = hits;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::1]', '127.1', '2130706433']) {
      const result = await fetcher().get(`http://${host}:${port}/ok`);
      expect(result, host).toMatchObject({ ok: false, reason: 'address_refused' });
    }
    expect(hits).toBe(before);
  });

  it('reaches an allowlisted name or range', async () => {
    for (const allowlist of [allow('keys.example.test'), allow('127.0.0.0/8')]) {
      const result = await fetcher({ allowlist }).get(`http://keys.example.test:${port}/ok`);
      expect(result.ok).toBe(true);
      if (result.ok) expect(Buffer.from(result.body).toString()).toBe('{"keys":[]}');
    }
    // The name allowlist does not extend to another name resolving to the same address.
    const other = await fetcher({ allowlist: allow('keys.example.test') }).get(`http://other.example.test:${port}/ok`);
    expect(other).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('refuses plain http unless development mode allows it, and credentials in the URL', async () => {
    const strict = createOutboundFetcher({ ...DEFAULT_OUTBOUND_POLICY, allowlist: allow('127.0.0.1') });
    expect(await strict.get(`http://127.0.0.1:${port}/ok`)).toMatchObject({ ok: false, reason: 'scheme_refused' });
    expect(await strict.get('file:///etc/passwd')).toMatchObject({ ok: false, reason: 'scheme_refused' });
    expect(await strict.get(`https://u:p@127.0.0.1:${port}/ok`)).toMatchObject({ ok: false, reason: 'invalid_url' });
    expect(strict.checkUrl(`http://127.0.0.1:${port}/ok`)).toMatch(/https/);
    expect(strict.checkUrl('https://keys.example.com/jwks')).toBeUndefined();
  });

  it('cuts a body over the cap, refuses redirects and error statuses', async () => {
    const allowlist = allow('127.0.0.1');
    const capped = fetcher({ allowlist, maxBytes: 4000 });
    expect(await capped.get(`http://127.0.0.1:${port}/big`)).toMatchObject({ ok: false, reason: 'too_large' });
    expect((await fetcher({ allowlist, maxBytes: 6000 }).get(`http://127.0.0.1:${port}/big`)).ok).toBe(true);
    expect(await capped.get(`http://127.0.0.1:${port}/redirect`)).toMatchObject({
      ok: false,
      reason: 'redirect_refused',
    });
    expect(await capped.get(`http://127.0.0.1:${port}/error`)).toMatchObject({ ok: false, reason: 'bad_status' });
  });

  it('gives up after the total timeout', async () => {
    const started = performance.now();
    const result = await fetcher({ allowlist: allow('127.0.0.1'), totalTimeoutMs: 300 }).get(
      `http://127.0.0.1:${port}/slow`,
    );
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
