/**
 * WebSocket upgrades through the gateway, with a real `ws` client and server: the upgrade takes
 * the route's decision, is stripped of credentials like any request, and once switched the
 * frames pass untouched. Storage plays no part here, so this runs on SQLite only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Opens a WebSocket; resolves with the socket and its first message, or with the refusal. */
function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; first: any } | { status: number; body: string; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, contentType: response.headers['content-type'] }),
      );
    });
    ws.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('gateway WebSocket upgrades', () => {
  let server: TestServer;
  let upstream: TestUpstream;
  let wsBase: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    server = await startTestServer('sqlite', {
      routes: [
        { name: 'live', match: { path: '/ws' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'refusing', match: { path: '/ws-refuse' }, upstream: upstream.url, auth: ['anonymous'] },
        { name: 'private', match: { path: '/private' }, upstream: upstream.url, auth: ['apikey'] },
      ],
    });
    wsBase = (server.proxyUrl as string).replace(/^http/, 'ws');
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('passes an allowed upgrade through, stripped of credentials, and relays frames both ways', async () => {
    const result = await connect(`${wsBase}/ws/chat?room=1&api_key=sekret1`, {
      authorization: 'Bearer sekret2',
      'x-auth-subject': 'admin',
    });
    if (!('ws' in result)) throw new Error(`refused: ${result.status} ${result.body}`);
    const { ws, first } = result;
    expect(first.url).toBe('/ws/chat?room=1');
    expect(first.headers['x-auth-method']).toBe('anonymous');
    expect(first.headers).not.toHaveProperty('authorization');
    expect(first.headers).not.toHaveProperty('x-auth-subject');
    expect(first.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(first.headers.upgrade).toBe('websocket');

    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('hello through the gateway');
    expect(await echoed).toBe('hello through the gateway');
    const binary = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(Buffer.from([0, 1, 2, 255]));
    expect([...(await binary)]).toEqual([0, 1, 2, 255]);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(1000);
    expect(await closed).toBe(1000);
  });

  it('refuses an upgrade the route does not allow, with problem+json, before contacting the upstream', async () => {
    const before = upstream.seen.length;
    const result = await connect(`${wsBase}/private/feed`);
    expect(result).toMatchObject({ status: 401, contentType: 'application/problem+json' });
    if ('body' in result) expect(JSON.parse(result.body).type).toBe('urn:gatehouse:problem:unauthorized');
    const noRoute = await connect(`${wsBase}/nowhere`);
    expect(noRoute).toMatchObject({ status: 404 });
    const trick = await connect(`${wsBase}/ws/..%2fprivate`);
    expect(trick).toMatchObject({ status: 400 });
    expect(upstream.seen.length).toBe(before);
  });

  it('relays the upstream’s answer when it declines to switch protocols', async () => {
    const result = await connect(`${wsBase}/ws-refuse`);
    expect(result).toMatchObject({ status: 403, body: 'refused' });
  });

  it('closes upgraded connections when the gateway stops', async () => {
    const result = await connect(`${wsBase}/ws/long-lived`);
    if (!('ws' in result)) throw new Error('refused');
    const closed = new Promise<void>((resolve) => result.ws.once('close', () => resolve()));
    await server.stop();
    await closed;
    expect(result.ws.readyState).toBe(WebSocket.CLOSED);
  });
});
