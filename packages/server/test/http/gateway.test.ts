/**
 * The built-in gateway, black-box: a real Gatehouse with routes in front of a real upstream.
 * Route matching and default deny, path and host tricks, credential stripping and identity
 * headers (docs/security.md #36), streaming, keep-alive, upstream failures, and HTTP framing attacks.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { freePort } from '../support/proxies.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type SeenRequest, startUpstream, type TestUpstream } from '../support/upstream.js';

/** A GET with exactly one, chosen, Host header. */
function getWithHost(url: string, host: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: target.hostname, port: target.port, path: target.pathname, headers: { host } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
  });
}

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe.each(storeKinds())('gateway on %s', (kind) => {
  let server: TestServer;
  let upstream: TestUpstream;
  let deadPort: number;
  const lastSeen = (): SeenRequest => upstream.seen[upstream.seen.length - 1] as SeenRequest;

  beforeAll(async () => {
    upstream = await startUpstream();
    deadPort = await freePort(); // bound, then released: nothing listens there
    server = await startTestServer(kind, {
      routes: [
        { name: 'public', match: { path: '/public' }, upstream: upstream.url, auth: ['anonymous'] },
        {
          name: 'read-only',
          match: { path: '/read', methods: ['GET'] },
          upstream: upstream.url,
          auth: ['anonymous'],
        },
        { name: 'admin', match: { path: '/admin' }, upstream: upstream.url, auth: ['apikey'], scopes: ['admin'] },
        {
          name: 'custom',
          match: { path: '/custom' },
          upstream: upstream.url,
          auth: ['apikey'],
          responses: { 401: { error: 'Unauthorized' } },
        },
        {
          name: 'files',
          match: { path: '/files', case_sensitive: false },
          upstream: upstream.url,
          auth: ['anonymous'],
        },
        {
          name: 'api-host',
          match: { path: '/', host: 'api.example.test' },
          upstream: `${upstream.url}/base`,
          strip_prefix: true,
          preserve_host: true,
          auth: ['anonymous'],
        },
        {
          name: 'stripped',
          match: { path: '/svc' },
          upstream: `${upstream.url}/inner/`,
          strip_prefix: true,
          auth: ['anonymous'],
        },
        { name: 'slow', match: { path: '/hang' }, upstream: upstream.url, auth: ['anonymous'], timeout: '300ms' },
        { name: 'reset', match: { path: '/reset' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'cut', match: { path: '/cut' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'stream', match: { path: '/stream' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'status', match: { path: '/status' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'dead', match: { path: '/dead' }, upstream: `http://127.0.0.1:${deadPort}`, auth: ['anonymous'] },
        { name: 'forward-auth-only', match: { path: '/fa-only' }, auth: ['anonymous'] },
        {
          name: 'catch-all',
          match: { path: '/', methods: ['GET', 'POST'] },
          upstream: upstream.url,
          auth: ['apikey'],
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('runs the proxy listener and reports it in the admin status', async () => {
    expect(server.proxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { body } = await server.admin('GET', '/admin/v1/status');
    expect(body.listeners.proxy).toBe(server.proxyUrl);
  });

  it('forwards an allowed request and returns the upstream answer', async () => {
    const response = await fetch(`${server.proxyUrl}/public/items?limit=5&sort=name`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('yes');
    const seen = await response.json();
    expect(seen).toMatchObject({ method: 'GET', url: '/public/items?limit=5&sort=name' });
    // The upstream is addressed by its own host; the client's host travels in X-Forwarded-Host.
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(seen.headers['x-forwarded-host']).toBe(new URL(server.proxyUrl as string).host);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-auth-method']).toBe('anonymous');
    expect(seen.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('strips client credentials and client-sent identity and forwarding headers (docs/security.md #36)', async () => {
    const response = await rawRequest(`${server.proxyUrl}/public/x?api_key=sekret1&a=1&access_token=sekret2`, {
      headers: [
        ['Authorization', 'Bearer sekret3'],
        ['X-API-Key', 'sekret4'],
        ['Proxy-Authorization', 'Basic sekret5'],
        ['X-Auth-Subject', 'admin'],
        ['X-Auth-Scopes', 'admin'],
        ['X-Auth-Method', 'apikey'],
        ['X-Forwarded-For', '10.0.0.1'],
        ['X-Forwarded-Host', 'evil.test'],
        ['Forwarded', 'for=10.0.0.1'],
        ['X-Real-IP', '10.0.0.1'],
        ['X-Custom', 'kept'],
      ],
    });
    expect(response.status).toBe(200);
    const seen = response.json();
    expect(seen.url).toBe('/public/x?a=1');
    expect(JSON.stringify(seen)).not.toContain('sekret');
    expect(seen.headers).not.toHaveProperty('authorization');
    expect(seen.headers).not.toHaveProperty('x-api-key');
    expect(seen.headers).not.toHaveProperty('proxy-authorization');
    expect(seen.headers).not.toHaveProperty('x-auth-subject');
    expect(seen.headers).not.toHaveProperty('x-auth-scopes');
    expect(seen.headers).not.toHaveProperty('forwarded');
    expect(seen.headers).not.toHaveProperty('x-real-ip');
    expect(seen.headers['x-auth-method']).toBe('anonymous');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).not.toBe('evil.test');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(server.logs.join('')).not.toContain('sekret');
  });

  it('denies what no route covers (default deny) without contacting the upstream', async () => {
    const before = upstream.seen.length;
    const response = await fetch(`${server.proxyUrl}/read/x`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await response.json()).type).toBe('urn:gatehouse:problem:method-not-allowed');
    const head = await fetch(`${server.proxyUrl}/read/x`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const forwardOnly = await fetch(`${server.proxyUrl}/fa-only/x`);
    expect(forwardOnly.status).toBe(404);
    expect(await forwardOnly.json()).toMatchObject({
      type: 'urn:gatehouse:problem:no-route',
      detail: 'Route "fa-only" has no upstream (forward auth only)'.replace('fa-only', 'forward-auth-only'),
    });
    expect(upstream.seen.length).toBe(before + 1);
  });

  it('answers 401 problem+json, or the route’s own body, when credentials are required', async () => {
    const before = upstream.seen.length;
    const response = await fetch(`${server.proxyUrl}/admin/users`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ type: 'urn:gatehouse:problem:unauthorized', status: 401 });
    const custom = await fetch(`${server.proxyUrl}/custom`);
    expect(custom.status).toBe(401);
    expect(custom.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await custom.json()).toEqual({ error: 'Unauthorized' });
    expect(upstream.seen.length).toBe(before);
  });

  describe('path tricks cannot dodge a route’s policy', () => {
    const statusOf = async (path: string, headers: Array<[string, string]> = []) =>
      (await rawRequest(`${server.proxyUrl}${path}`, { headers })).status;

    it('resolves dot segments and merged slashes before matching, and forwards the canonical path', async () => {
      const before = upstream.seen.length;
      expect(await statusOf('/public/../admin')).toBe(401);
      expect(await statusOf('/public/%2e%2e/admin')).toBe(401);
      expect(await statusOf('/public/%2E./admin')).toBe(401);
      expect(await statusOf('//admin')).toBe(401);
      expect(await statusOf('/%61dmin')).toBe(401);
      expect(upstream.seen.length).toBe(before);
      expect(await statusOf('/public/./a//b/../c')).toBe(200);
      expect(lastSeen().url).toBe('/public/a/c');
      expect(await statusOf('/admin/../public/x')).toBe(200);
      expect(lastSeen().url).toBe('/public/x');
    });

    it('refuses encoded slashes, backslashes, fragments and bad encodings with 400', async () => {
      const before = upstream.seen.length;
      for (const path of [
        '/public/..%2fadmin',
        '/public%2F..%2Fadmin',
        '/public/..%5cadmin',
        '/public/%zz',
        '/public/%00',
      ]) {
        const response = await rawRequest(`${server.proxyUrl}${path}`);
        expect(response.status, path).toBe(400);
        expect(response.json().type, path).toBe('urn:gatehouse:problem:invalid-request');
      }
      expect(upstream.seen.length).toBe(before);
    });

    it('matches paths case-sensitively unless the route opts out', async () => {
      expect(await statusOf('/PUBLIC/x')).toBe(401); // falls to the catch-all, which needs a key
      expect(await statusOf('/Admin')).toBe(401);
      expect(await statusOf('/FILES/Report.pdf')).toBe(200);
      expect(lastSeen().url).toBe('/FILES/Report.pdf');
    });

    it('canonicalises hosts (case, port, one trailing dot) and refuses what is not a host', async () => {
      const withHost = (host: string) => getWithHost(`${server.proxyUrl}/anything`, host);
      expect(await withHost('API.Example.Test.')).toBe(200);
      const seen = lastSeen();
      // strip_prefix keeps the remainder below the upstream's base path; preserve_host sends the client's Host.
      expect(seen.url).toBe('/base/anything');
      expect(seen.headers.host).toBe('API.Example.Test.');
      expect(await withHost('api.example.test:4002')).toBe(200);
      expect(await withHost('api.example.test..')).toBe(400);
      expect(await withHost('evil.test@api.example.test')).toBe(400);
      expect(await withHost('xapi.example.test')).toBe(401);
    });

    it('refuses absolute-form and asterisk-form request targets', async () => {
      const host = new URL(server.proxyUrl as string).host;
      const absolute = await rawExchange(
        server.proxyUrl as string,
        `GET http://${host}/public/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
      const asterisk = await rawExchange(
        server.proxyUrl as string,
        `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(asterisk).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('refuses a request with two Host or two Authorization headers (docs/security.md #28)', async () => {
      const twoHosts = await rawRequest(`${server.proxyUrl}/public/x`, { headers: [['Host', 'api.example.test']] });
      expect(twoHosts.status).toBe(400);
      const twoAuth = await rawRequest(`${server.proxyUrl}/public/x`, {
        headers: [
          ['Authorization', 'Bearer a'],
          ['authorization', 'Bearer b'],
        ],
      });
      expect(twoAuth.status).toBe(400);
      expect(twoAuth.json().type).toBe('urn:gatehouse:problem:duplicate-header');
    });
  });

  it('strips the matched prefix onto the upstream’s base path', async () => {
    expect((await fetch(`${server.proxyUrl}/svc/a/b?q=1`)).status).toBe(200);
    expect(lastSeen().url).toBe('/inner/a/b?q=1');
    expect((await fetch(`${server.proxyUrl}/svc`)).status).toBe(200);
    expect(lastSeen().url).toBe('/inner/');
  });

  it('streams request bodies to the upstream, with or without Content-Length', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefghij');
    const digest = createHash('sha256').update(big).digest('hex');
    const sized = await fetch(`${server.proxyUrl}/public/upload`, { method: 'PUT', body: big });
    expect(sized.status).toBe(200);
    expect(createHash('sha256').update(lastSeen().body).digest('hex')).toBe(digest);
    expect(lastSeen().headers['content-length']).toBe(String(big.length));

    // Chunked upload: the gateway (bodyLimit 1 MiB elsewhere) must not buffer or cap it.
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.proxyUrl}/public/chunked`);
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      Readable.from(['part one,', ' part two,', ' part three']).pipe(request);
    });
    expect(chunked).toBe(200);
    expect(lastSeen().body).toBe('part one, part two, part three');
  });

  it('answers Expect: 100-continue itself and forwards the body without the Expect header', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.proxyUrl}/public/expect`);
      const request = http.request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PUT',
        headers: { expect: '100-continue', 'content-length': '5' },
      });
      request.on('continue', () => request.end('hello'));
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', reject);
    });
    expect(status).toBe(200);
    expect(lastSeen().body).toBe('hello');
    expect(lastSeen().headers).not.toHaveProperty('expect');
  });

  it('streams responses: the first chunk arrives while the upstream is still writing', async () => {
    const response = await fetch(`${server.proxyUrl}/stream`);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first chunk\n');
    upstream.release();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('last chunk\n');
  });

  it('reuses upstream connections (keep-alive pool)', async () => {
    const before = upstream.connections();
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.proxyUrl}/public/${i}`)).status).toBe(200);
    expect(upstream.connections() - before).toBeLessThanOrEqual(1);
  });

  it('relays small bodies whole with their length, and passes HEAD’s declared length on without a body', async () => {
    const get = await rawRequest(`${server.proxyUrl}/public/length`);
    const body = get.body;
    expect(get.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body).url).toBe('/public/length');
    const head = await rawRequest(`${server.proxyUrl}/public/length`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    // The length the upstream declared for the body it did not send (RFC 9110 §9.3.2).
    expect(Number(head.headers['content-length'])).toBeGreaterThan(200);
  });

  it('removes hop-by-hop headers from the upstream’s answer', async () => {
    const response = await fetch(`${server.proxyUrl}/public/hop`);
    expect(response.headers.get('x-hop')).toBeNull();
    expect(response.headers.get('x-upstream')).toBe('yes');
  });

  it('passes upstream statuses on as they are, 503 included (no retries)', async () => {
    const before = upstream.seen.length;
    const response = await fetch(`${server.proxyUrl}/status/503`);
    expect(response.status).toBe(503);
    expect(upstream.seen.length).toBe(before + 1);
  });

  it('answers 504 problem+json when the upstream hangs, and 502 when it resets or is down', async () => {
    const hung = await fetch(`${server.proxyUrl}/hang`);
    expect(hung.status).toBe(504);
    expect(await hung.json()).toMatchObject({ type: 'urn:gatehouse:problem:gateway-timeout', status: 504 });
    const reset = await fetch(`${server.proxyUrl}/reset`);
    expect(reset.status).toBe(502);
    expect(await reset.json()).toMatchObject({ type: 'urn:gatehouse:problem:bad-gateway', status: 502 });
    const dead = await fetch(`${server.proxyUrl}/dead`);
    expect(dead.status).toBe(502);
    // A small body is relayed whole, so an upstream that dies mid-body still gets a clean 502,
    // without the upstream's own headers.
    const cut = await fetch(`${server.proxyUrl}/cut`);
    expect(cut.status).toBe(502);
    expect(cut.headers.get('x-upstream')).toBeNull();
    expect(await cut.json()).toMatchObject({ type: 'urn:gatehouse:problem:bad-gateway', status: 502 });
    // The failure is logged with its cause, never as an unhandled 500.
    expect(server.logs.join('')).toContain('upstream failed');
  });

  describe('HTTP framing attacks are refused before any route sees them', () => {
    it('refuses Content-Length together with Transfer-Encoding (request smuggling)', async () => {
      const host = new URL(server.proxyUrl as string).host;
      const before = upstream.seen.length;
      const answer = await rawExchange(
        server.proxyUrl as string,
        `POST /public/x HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/users HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('application/problem+json');
      expect(answer).toContain('Content-Length and Transfer-Encoding must not both be present');
      expect(answer.match(/HTTP\/1\.1/g)).toHaveLength(1);
      expect(upstream.seen.length).toBe(before);
    });

    it('refuses obfuscated Transfer-Encoding and conflicting Content-Length values', async () => {
      const host = new URL(server.proxyUrl as string).host;
      for (const framing of [
        'Transfer-Encoding: chunked\r\nTransfer-Encoding: x',
        'Transfer-Encoding : chunked',
        'Content-Length: 5\r\nContent-Length: 6',
      ]) {
        const answer = await rawExchange(
          server.proxyUrl as string,
          `POST /public/x HTTP/1.1\r\nHost: ${host}\r\n${framing}\r\n\r\nhello!`,
        );
        expect(answer, framing).toMatch(/^HTTP\/1\.1 400 /);
      }
    });

    it('answers 431 problem+json to an oversized header block', async () => {
      const host = new URL(server.proxyUrl as string).host;
      const answer = await rawExchange(
        server.proxyUrl as string,
        `GET /public/x HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toContain('urn:gatehouse:problem:request-header-too-large');
    });
  });

  it('counts gateway decisions and upstream latency in /metrics', async () => {
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="gateway",route="public",mechanism="anonymous",outcome="allowed"\} \d+/,
    );
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="gateway",route="-",mechanism="none",outcome="bad_request"\} \d+/,
    );
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="gateway",route="admin",mechanism="none",outcome="unauthenticated"\} \d+/,
    );
    expect(metrics).toMatch(/gatehouse_upstream_duration_seconds_count\{route="slow",outcome="timeout"\} 1/);
    expect(metrics).toMatch(/gatehouse_upstream_duration_seconds_count\{route="dead",outcome="connect_error"\} 1/);
    expect(metrics).toMatch(/gatehouse_verify_duration_seconds_bucket\{surface="gateway",le="0.001"\} \d+/);
  });
});
