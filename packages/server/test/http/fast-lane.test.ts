/**
 * `installFastLane` (src/http/fastify.ts): a lane in front of Fastify's router answers what it
 * takes, hands the rest to Fastify, and — being outside Fastify's error handling — must not let
 * an exception escape: a bug there would otherwise be an uncaught exception that ends the process.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFastify, installFastLane } from '../../src/http/fastify.js';
import { createLogger } from '../../src/logging.js';

/** An app on Gatehouse's Fastify settings whose log lines are kept, parsed. */
function loggedApp() {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  const app = createFastify({
    logger: createLogger({ log: { level: 'info', format: 'json' } }, sink),
    logRequests: false,
  });
  return { app, lines };
}

describe('installFastLane', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function serve(lane: Parameters<typeof installFastLane>[1]) {
    const { app, lines } = loggedApp();
    app.get('/routed', async () => ({ door: 'router' }));
    installFastLane(app, lane);
    await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, lines };
  }

  it('answers what it takes and hands the rest to Fastify', async () => {
    const { url } = await serve((request, response) => {
      if (request.url !== '/lane') return false;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('lane');
      return true;
    });
    expect(await (await fetch(`${url}/lane`)).text()).toBe('lane');
    expect(await (await fetch(`${url}/routed`)).json()).toEqual({ door: 'router' });
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
  });

  it('turns an exception in the lane into a logged 500 problem, and keeps serving', async () => {
    const { url, lines } = await serve((request) => {
      if (request.url === '/boom') throw new Error('lane bug');
      return false;
    });
    const boom = await fetch(`${url}/boom`);
    expect(boom.status).toBe(500);
    expect(boom.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await boom.json()).toMatchObject({ type: 'urn:gatehouse:problem:internal', status: 500, instance: '/boom' });
    expect(lines.some((line) => line.msg === 'fast lane failed' && line.err?.message === 'lane bug')).toBe(true);
    expect((await fetch(`${url}/routed`)).status).toBe(200);
  });

  it('steps aside once the app closes, so that Fastify answers 503 while draining', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let laneCalls = 0;
    const { app } = loggedApp();
    app.get('/slow', async () => {
      await held;
      return { slow: true };
    });
    installFastLane(app, (request, response) => {
      if (request.url !== '/lane') return false;
      laneCalls++;
      response.writeHead(200);
      response.end('lane');
      return true;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    // A request held in flight keeps the connection (and the server) open while closing; a
    // second one pipelined behind it after close() has begun must bypass the lane.
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk;
    });
    const ended = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write('GET /lane HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    // Fastify closes the connection after its 503; a lane answer would keep it alive.
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 3000))]);
    socket.destroy();
    await closing;
    expect(received).toContain('"slow":true');
    expect(received).toMatch(/HTTP\/1\.1 503/);
    expect(laneCalls).toBe(0);
  });
});
