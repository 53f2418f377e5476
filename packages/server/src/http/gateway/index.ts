/**
 * The gateway (proxy listener, only when routes are configured): every request is matched
 * against the route policies, authenticated through the pipeline *before its body is read*,
 * stripped of client credentials, given identity headers, and streamed to the route's upstream
 * with @fastify/reply-from over an undici keep-alive pool. WebSocket upgrades take the same
 * decision (./websocket.ts).
 *
 * Errors are RFC 9457 problem+json: 400 for requests that try to dodge a policy, 404 when no
 * route covers a request (default deny), 401/403/429 from the pipeline (or the route's own
 * bodies), 502 when the upstream fails or resets, 504 when it does not answer in time, 503
 * when the store cannot be reached.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import replyFrom, { type FastifyReplyFromHooks } from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { withoutQueryParameters } from '../../core/policies/request-target.js';
import { type RoutePolicy, upstreamPath, upstreamTarget } from '../../core/policies/routes.js';
import type { UpstreamOutcome } from '../../observability/metrics.js';
import { isStoreUnavailable } from '../../store/errors.js';
import { createDecisionLog, type DecisionLogLevel } from '../decision-log.js';
import { DENIED_HEADER } from '../denied-header.js';
import { type ProblemCode, ProblemError, problemErrorHandler, sendProblem } from '../problem.js';
import { authorizeGatewayRequest, type GatewayContext, type GatewayVerdict } from './authorize.js';
import { CREDENTIAL_QUERY_PARAMETERS, clientResponseHeaders, stripRuleFor, upstreamRequestHeaders } from './headers.js';
import { passWebSocketUpgrades } from './websocket.js';

export interface GatewaySurfaceOptions extends GatewayContext {
  /** Default time for the upstream's response headers and between its body chunks. */
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly isShuttingDown: () => boolean;
  /** `trust_proxy`, for WebSocket upgrades (Fastify applies it to every other request). */
  readonly trustProxy: readonly string[];
  /** Credential headers the mechanisms declare (the configured API-key header), lower case. */
  readonly credentialHeaders: readonly string[];
  /** `log.decisions` (default `info`): one line per decision (../decision-log.ts). */
  readonly decisions?: DecisionLogLevel;
  /** `proxy.strip_headers`: client headers removed on every route, besides the defaults. */
  readonly stripHeaders?: readonly string[];
}

type Allowed = Extract<GatewayVerdict, { allow: true }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The gateway's decision, set by its onRequest hook. */
    gateway: Allowed | null;
    /** When the request left for the upstream (performance.now()), for the upstream latency metric. */
    upstreamStarted: number;
  }
}

export async function gatewaySurface(app: FastifyInstance, given: GatewaySurfaceOptions): Promise<void> {
  const options: GatewaySurfaceOptions = {
    ...given,
    decisionLog: createDecisionLog(app.log as Logger, given.decisions ?? 'info'),
  };
  app.setErrorHandler((error: Error, request, reply) => {
    // Before a decision allowed the request, whatever went wrong is Gatehouse's answer, not the
    // upstream's (a store outage while authenticating: 503).
    const code = request.gateway === null ? deniedCodeOf(error) : undefined;
    if (code !== undefined) reply.header(DENIED_HEADER, code);
    return problemErrorHandler(error, request, reply);
  });
  // Bodies are never parsed: they stream to the upstream as they arrive.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  await app.register(replyFrom, {
    undici: {
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.upstreamTimeoutMs,
      bodyTimeout: options.upstreamTimeoutMs,
    },
    disableRequestLogging: true,
    disableCache: true,
    destroyAgent: true,
  });
  app.decorateRequest('gateway', null);
  app.decorateRequest('upstreamStarted', 0);

  app.addHook('onRequest', async (request, reply) => {
    const verdict = await authorizeGatewayRequest(options, {
      method: request.method,
      url: request.raw.url ?? '',
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
      host: request.host,
      clientIp: request.ip,
      secure: request.protocol === 'https',
      requestId: request.id,
    });
    if (verdict.allow) {
      request.gateway = verdict;
      return;
    }
    return sendVerdict(reply, verdict);
  });

  app.all('/*', (request, reply) => forward(request, reply, options));
  passWebSocketUpgrades(app, options);
}

/** The `X-Gatehouse-Denied` value for an error thrown before the gateway allowed a request. */
function deniedCodeOf(error: Error): ProblemCode | undefined {
  if (isStoreUnavailable(error)) return 'store-unavailable';
  if (error instanceof ProblemError) return error.problem;
  return undefined;
}

function sendVerdict(reply: FastifyReply, verdict: Extract<GatewayVerdict, { allow: false }>): FastifyReply {
  reply.header('cache-control', 'no-store');
  reply.header(DENIED_HEADER, verdict.problem);
  for (const [name, value] of Object.entries(verdict.headers)) reply.header(name, value);
  if (verdict.body !== undefined) return reply.code(verdict.status).type('application/json').send(verdict.body);
  return sendProblem(reply, verdict.problem, verdict.detail, { status: verdict.status });
}

/**
 * reply-from's options for a route, built once: every hook reads the request's own state
 * (`request.gateway`, `request.upstreamStarted`), so forwarding allocates no closures.
 */
const forwardingOptions = new WeakMap<RoutePolicy, FastifyReplyFromHooks>();
function forwardingOptionsOf(route: RoutePolicy, options: GatewaySurfaceOptions): FastifyReplyFromHooks {
  let hooks = forwardingOptions.get(route);
  if (hooks) return hooks;
  const elapsed = (request: { upstreamStarted: number }) => (performance.now() - request.upstreamStarted) / 1000;
  /**
   * The upstream failed before the client got anything: 504 for a timeout, 502 otherwise.
   * `midBody`: its headers had arrived (and were counted as a response).
   */
  const failed = (reply: FastifyReply, error: Error, midBody = false): void => {
    const outcome = upstreamOutcome(error);
    if (!midBody) options.metrics.upstream(route.name, outcome, elapsed(reply.request));
    reply.request.log.warn(
      { route: route.name, outcome, err: { message: error.message, code: causeCode(error) } },
      'upstream failed',
    );
    // Whatever the upstream's headers said, the answer is now ours.
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    if (outcome === 'timeout') {
      sendProblem(reply, 'gateway-timeout', `The upstream of route "${route.name}" did not answer in time`);
    } else {
      sendProblem(reply, 'bad-gateway', `The upstream of route "${route.name}" could not be reached or failed`);
    }
  };
  hooks = {
    queryString: (_search, _url, request) =>
      withoutQueryParameters((request.gateway as Allowed).query, CREDENTIAL_QUERY_PARAMETERS),
    timeout: route.timeoutMs ?? options.upstreamTimeoutMs,
    // reply-from would otherwise retry GETs answered with 503: a gateway passes answers on.
    retryDelay: () => null,
    rewriteRequestHeaders: (request, headers) => {
      const verdict = request.gateway as Allowed;
      return upstreamRequestHeaders(headers as IncomingHttpHeaders, {
        identity: verdict.identity,
        clientIp: request.ip,
        proto: request.protocol === 'https' ? 'https' : 'http',
        originalHost: request.host,
        requestId: request.id,
        preserveHost: route.preserveHost,
        bearer: verdict.bearer,
        credentialHeaders: options.credentialHeaders,
        strip: stripRuleFor(route, options.stripHeaders ?? []),
      });
    },
    rewriteHeaders: (headers, request) => {
      const own = (request?.gateway as Allowed | undefined)?.responseHeaders;
      const filtered = clientResponseHeaders(headers as IncomingHttpHeaders);
      return own ? { ...filtered, ...own } : filtered;
    },
    onResponse: (request, reply, response) => {
      options.metrics.upstream(route.name, 'response', elapsed(request));
      // reply-from has copied the upstream's status and headers onto the reply by now.
      if (isSmallBody(request.method, reply.statusCode, reply.getHeader('content-length'))) {
        relayWhole(response.stream, reply as FastifyReply, failed);
      } else {
        reply.send(response.stream);
      }
    },
    onError: (reply, { error }) => failed(reply as FastifyReply, error),
  };
  forwardingOptions.set(route, hooks);
  return hooks;
}

/**
 * Bodies up to this size with a declared length are relayed whole: read from the upstream, then
 * written to the client together with the headers, in one write instead of a stream's several
 * (each a system call, which on a small response costs more than everything else the gateway
 * does). Larger or unsized bodies stream as they arrive.
 */
const WHOLE_BODY_LIMIT = 16 * 1024;

function isSmallBody(method: string, status: number, declared: unknown): boolean {
  // HEAD, 204 and 304 carry no body whatever Content-Length says (RFC 9110 §8.6).
  if (method === 'HEAD' || status === 204 || status === 304) return false;
  const length = typeof declared === 'string' && /^\d{1,5}$/.test(declared) ? Number(declared) : Number.NaN;
  return length <= WHOLE_BODY_LIMIT;
}

function relayWhole(
  body: NodeJS.ReadableStream,
  reply: FastifyReply,
  failed: (reply: FastifyReply, error: Error, midBody: boolean) => void,
): void {
  const chunks: Buffer[] = [];
  body.on('data', (chunk: Buffer) => chunks.push(chunk));
  body.on('end', () => reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  // Reset or timed out mid-body: nothing was sent yet, so the client gets a clean 502/504.
  body.on('error', (error: Error) => failed(reply, error, true));
}

function forward(request: FastifyRequest, reply: FastifyReply, options: GatewaySurfaceOptions): FastifyReply {
  const { route, path } = request.gateway as Allowed;
  request.upstreamStarted = performance.now();
  return reply.from(`${upstreamTarget(route).origin}${upstreamPath(route, path)}`, forwardingOptionsOf(route, options));
}

/** Classifies reply-from's errors (which wrap undici's) for metrics and the status code. */
function upstreamOutcome(error: Error): UpstreamOutcome {
  const codes = [(error as { code?: string }).code, causeCode(error)];
  if (codes.some((code) => code === 'FST_REPLY_FROM_GATEWAY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT')) {
    return 'timeout';
  }
  if (codes.some((code) => code === 'UND_ERR_BODY_TIMEOUT' || code === 'FST_REPLY_FROM_TIMEOUT')) return 'timeout';
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT')) return 'timeout';
  if (codes.some((code) => code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')) {
    return 'connect_error';
  }
  if (codes.some((code) => code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')) return 'reset';
  return 'error';
}

function causeCode(error: Error): string | undefined {
  let cause = (error as { cause?: unknown }).cause;
  while (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    if (code) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
