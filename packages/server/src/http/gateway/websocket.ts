/**
 * WebSocket upgrades through the gateway (RFC 6455 §4). Node hands upgrade requests to the
 * server's `upgrade` event instead of Fastify, so they take the same decision here
 * (./authorize.ts) before anything is forwarded:
 * - refused → the problem+json answer is written with Node's own `ServerResponse` and the
 *   connection is closed;
 * - allowed → the upgrade request, rewritten like any other (credentials stripped, identity
 *   headers set), goes to the upstream with `http.request`; when the upstream switches
 *   protocols its `101` is relayed and the two sockets are piped together untouched (frames,
 *   subprotocols and extensions are the upstream's business); when it answers anything else,
 *   that answer is relayed instead.
 * Only `Upgrade: websocket` is passed on (h2c and others are refused). Upgraded connections are
 * closed when the gateway stops.
 */

import http, { type IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { withoutQueryParameters } from '../../core/policies/request-target.js';
import { upstreamPath, upstreamTarget } from '../../core/policies/routes.js';
import { type ConnectionFacts, compileProxyTrust, connectionFacts, lastEntry, type ProxyTrust } from '../connection.js';
import { DENIED_HEADER } from '../denied-header.js';
import { requestId } from '../fastify.js';
import { type ProblemCode, problemBody } from '../problem.js';
import { authorizeGatewayRequest } from './authorize.js';
import { CREDENTIAL_QUERY_PARAMETERS, clientResponseHeaders, stripRuleFor, upstreamRequestHeaders } from './headers.js';
import type { GatewaySurfaceOptions } from './index.js';

/** What the connection says about the client, with `trust_proxy` applied as Fastify applies it. */
interface UpgradeFacts extends ConnectionFacts {
  readonly host: string;
}

function upgradeFacts(request: IncomingMessage, trust: ProxyTrust): UpgradeFacts {
  const facts = connectionFacts(request, trust);
  const own = request.headers.host ?? '';
  const forwardedHost = facts.viaTrustedProxy ? request.headers['x-forwarded-host'] : undefined;
  return { ...facts, host: forwardedHost === undefined ? own : lastEntry(forwardedHost) };
}

export function passWebSocketUpgrades(app: FastifyInstance, options: GatewaySurfaceOptions): void {
  const trust = compileProxyTrust(options.trustProxy);
  const open = new Set<Socket>();
  app.server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const id = requestId(request);
    handleUpgrade(app, options, { request, socket, head, id, facts: upgradeFacts(request, trust) }, open).catch(
      (error: unknown) => {
        app.log.error({ err: error, request_id: id }, 'websocket upgrade failed');
        answer({ request, socket, id }, 500, 'internal', 'An internal error occurred; it has been logged');
      },
    );
  });
  // Before the listener closes: it would otherwise wait for these long-lived connections.
  app.addHook('preClose', async () => {
    for (const socket of open) socket.destroy();
  });
}

/** An upgrade request, its socket, the bytes after its head and its request id. */
interface Upgrade {
  readonly request: IncomingMessage;
  readonly socket: Socket;
  readonly id: string;
}

async function handleUpgrade(
  app: FastifyInstance,
  options: GatewaySurfaceOptions,
  upgrade: Upgrade & { readonly head: Buffer; readonly facts: UpgradeFacts },
  open: Set<Socket>,
): Promise<void> {
  const { request, socket, head, id, facts } = upgrade;
  if (options.isShuttingDown()) return answer(upgrade, 503, 'shutting-down', 'The server is shutting down');
  if (request.headers.upgrade?.toLowerCase() !== 'websocket' || request.method !== 'GET') {
    return answer(upgrade, 400, 'invalid-request', 'Only WebSocket upgrades (GET, Upgrade: websocket) are passed on');
  }
  const verdict = await authorizeGatewayRequest(options, {
    method: request.method,
    url: request.url ?? '',
    headers: request.headers,
    rawHeaders: request.rawHeaders,
    host: facts.host,
    clientIp: facts.clientIp,
    secure: facts.secure,
    requestId: id,
  });
  if (!verdict.allow) {
    const headers = { ...verdict.headers, [DENIED_HEADER]: verdict.problem };
    return answer(upgrade, verdict.status, verdict.problem, verdict.detail, headers, verdict.body);
  }
  const { route } = verdict;
  const target = upstreamTarget(route).url;
  const query = withoutQueryParameters(verdict.query, CREDENTIAL_QUERY_PARAMETERS);
  const path = `${upstreamPath(route, verdict.path)}${query ? `?${query}` : ''}`;
  const headers = upstreamRequestHeaders(
    { ...request.headers, host: target.host },
    {
      identity: verdict.identity,
      clientIp: facts.clientIp,
      proto: facts.secure ? 'https' : 'http',
      originalHost: facts.host,
      requestId: id,
      preserveHost: route.preserveHost,
      bearer: verdict.bearer,
      credentialHeaders: options.credentialHeaders,
      strip: stripRuleFor(route, options.stripHeaders ?? []),
    },
    { upgrade: true },
  );
  const upstreamRequest = (target.protocol === 'https:' ? https : http).request({
    host: target.hostname,
    port: target.port,
    path,
    method: 'GET',
    headers,
    agent: false,
    timeout: route.timeoutMs ?? options.upstreamTimeoutMs,
  });
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  socket.once('close', () => upstreamRequest.destroy());

  upstreamRequest.once('upgrade', (response: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
    options.metrics.upstream(route.name, 'response', elapsed());
    upstreamSocket.setTimeout(0);
    socket.setTimeout(0);
    if (socket.destroyed) {
      upstreamSocket.destroy();
      return;
    }
    open.add(socket);
    // The 101 head is relayed as the upstream sent it (Node has parsed and validated it).
    let lines = `HTTP/1.1 101 ${response.statusMessage || 'Switching Protocols'}\r\n`;
    for (let i = 0; i < response.rawHeaders.length; i += 2) {
      lines += `${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}\r\n`;
    }
    socket.write(`${lines}\r\n`);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    const close = () => {
      open.delete(socket);
      socket.destroy();
      upstreamSocket.destroy();
    };
    upstreamSocket.on('error', close).on('close', close);
    socket.on('error', close).on('close', close);
    socket.pipe(upstreamSocket).pipe(socket);
  });

  upstreamRequest.once('response', (response: IncomingMessage) => {
    // The upstream declined to switch protocols: its answer goes back as is.
    options.metrics.upstream(route.name, 'response', elapsed());
    const reply = rawResponse(socket, request);
    reply.writeHead(response.statusCode ?? 502, response.statusMessage, clientResponseHeaders(response.headers));
    response.pipe(reply);
  });

  upstreamRequest.once('timeout', () => {
    options.metrics.upstream(route.name, 'timeout', elapsed());
    upstreamRequest.destroy();
    answer(upgrade, 504, 'gateway-timeout', `The upstream of route "${route.name}" did not answer in time`);
  });
  upstreamRequest.once('error', (error: NodeJS.ErrnoException) => {
    if (socket.destroyed) return;
    options.metrics.upstream(route.name, error.code === 'ECONNREFUSED' ? 'connect_error' : 'reset', elapsed());
    app.log.warn({ route: route.name, err: { message: error.message, code: error.code } }, 'upstream failed');
    answer(upgrade, 502, 'bad-gateway', `The upstream of route "${route.name}" could not be reached or failed`);
  });
  upstreamRequest.end();
}

/** A `ServerResponse` on the upgrade socket, so answers are serialised by Node, not by hand. */
function rawResponse(socket: Socket, request: IncomingMessage): ServerResponse {
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(socket);
  response.once('finish', () => {
    response.detachSocket(socket);
    socket.destroySoon();
  });
  return response;
}

function answer(
  { socket, request, id }: Upgrade,
  status: number,
  problem: ProblemCode,
  detail: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
  body?: unknown,
): void {
  if (socket.destroyed || !socket.writable) return;
  const response = rawResponse(socket, request);
  const payload =
    body === undefined
      ? JSON.stringify(problemBody(problem, detail, { url: request.url ?? '/', requestId: id, status }))
      : JSON.stringify(body);
  response.writeHead(status, {
    ...(headers as Record<string, string | string[]>),
    'content-type': body === undefined ? 'application/problem+json' : 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  response.end(payload);
}
