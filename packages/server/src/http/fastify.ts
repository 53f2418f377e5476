/**
 * The Fastify settings every listener shares: our logger, request ids, strict validation
 * (unknown fields are errors, not silently dropped), bounded bodies, and graceful closing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import AjvCompiler from '@fastify/ajv-compiler';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../logging.js';
import { PROBLEM_TYPES, type ProblemCode, problemBody, problemErrorHandler } from './problem.js';
import { lazyChildLogger } from './request-logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids in UUID form: 80 random bits fixed per process, then a 48-bit counter. Unique across
 * instances (the random part) and within one (the counter), and an order of magnitude cheaper
 * than `randomUUID()` per request, which showed up in the profile of the verify hot path. Ids
 * correlate log lines; they are not secrets, so being sequential is harmless.
 */
const PROCESS_ID = randomBytes(10)
  .toString('hex')
  .replace(/^(.{8})(.{4})(.{4})(.{4})$/, '$1-$2-$3-$4-');
let requestCounter = 0;

/** A caller-supplied `X-Request-Id` is kept when it is well-formed; otherwise one is made. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  requestCounter = (requestCounter + 1) % 0x1000000000000;
  return PROCESS_ID + requestCounter.toString(16).padStart(12, '0');
}

export interface FastifyOptions {
  readonly logger: Logger;
  /** Log every request at info (admin) or only what handlers log (public hot path). */
  readonly logRequests: boolean;
  readonly bodyLimit?: number;
  readonly https?: { key: Buffer; cert: Buffer } | null;
  /** Time for a whole request to arrive; 0 for none (the gateway streams long bodies). */
  readonly requestTimeout?: number;
  /**
   * Proxies whose X-Forwarded-For/-Proto are believed (config `trust_proxy`), so that
   * `request.ip` is the client's and `request.protocol` says whether the client used HTTPS.
   */
  readonly trustProxy?: readonly string[];
}

export function createFastify(options: FastifyOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: options.logRequests
      ? new AccessLogController()
      : new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestId,
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Slowloris bounds: a request must arrive in full within 30 s.
    requestTimeout: options.requestTimeout ?? 30_000,
    clientErrorHandler,
    // Malformed URLs (`/%zz`) never reach a route; answer them as problem+json too.
    frameworkErrors: (error, request, reply) => {
      problemErrorHandler(error, request as FastifyRequest, reply as FastifyReply);
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators() } },
    ...(options.https ? { https: options.https } : {}),
    // An empty list must not reach Fastify: any array switches its trust-proxy code path on.
    ...(options.trustProxy && options.trustProxy.length > 0 ? { trustProxy: [...options.trustProxy] } : {}),
  }) as unknown as FastifyInstance;
  return app;
}

/**
 * A fast lane answers some requests before Fastify routes them: it returns true when it has
 * answered (or taken charge of) the request, false to let Fastify handle it as usual. It exists
 * for `/auth/verify`, which forward-auth proxies call on every request of every service
 * (http/public/verify.ts); Fastify's routing and reply pipeline cost about a quarter of a
 * cached verification there. A lane must only take requests whose answer it gives exactly as the
 * Fastify route would, and hand the rest on.
 */
export type FastLane = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * Puts `lane` in front of Fastify's request handler on `app`'s server. Once the app starts
 * closing, every request goes to Fastify again, which answers 503 (`return503OnClosing`).
 */
export function installFastLane(app: FastifyInstance, lane: FastLane): void {
  const server = app.server;
  const handlers = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  // Fastify attaches exactly one: the handler it created the server with.
  if (handlers.length !== 1) throw new Error(`expected Fastify's one request handler, found ${handlers.length}`);
  const fastify = handlers[0] as (request: IncomingMessage, response: ServerResponse) => void;
  let active: FastLane | null = lane;
  server.removeListener('request', fastify);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    let answered = false;
    try {
      answered = active?.(request, response) === true;
    } catch (error) {
      // A bug in a lane must not take the process down (an exception here would be uncaught):
      // logged, and answered 500 problem+json like any unhandled error behind Fastify.
      app.log.error({ err: error }, 'fast lane failed');
      answerInternalError(response);
      return;
    }
    if (!answered) fastify(request, response);
  });
  app.addHook('preClose', (done) => {
    active = null;
    done();
  });
}

function answerInternalError(response: ServerResponse): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(
    problemBody('internal', 'An internal error occurred; it has been logged', {
      url: response.req.url ?? '/',
      requestId: requestId(response.req),
    }),
  );
  response.writeHead(PROBLEM_TYPES.internal.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Requests Node's HTTP parser refuses before any route sees them — an oversized header block,
 * `Content-Length` together with `Transfer-Encoding` (RFC 9112 §6.1: a request smuggling
 * attempt), invalid framing, a request that arrives too slowly — are answered with problem+json
 * and the connection is closed (the parser's state cannot be trusted after such an error).
 * Node's parser does the refusing; this only writes the answer, as Fastify's default would.
 */
function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [problem, detail]: [ProblemCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['request-header-too-large', 'The request headers exceed the size this listener accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request-timeout', 'The request did not arrive in time']
        : /content-length/i.test(error.message) && /transfer-encoding/i.test(error.message)
          ? ['invalid-request', 'Content-Length and Transfer-Encoding must not both be present (RFC 9112 §6.1)']
          : ['invalid-request', 'The request is not valid HTTP/1.1'];
  this.log.debug({ err: { code: error.code, message: error.message } }, 'client error');
  if (socket.writable) {
    const { status } = PROBLEM_TYPES[problem];
    const body = JSON.stringify(problemBody(problem, detail, { url: '/', requestId: randomUUID() }));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Query strings, params and headers are text, so their schemas coerce (`?limit=5` is a number,
 * a repeated parameter an array). JSON bodies carry their own types and are validated as sent:
 * `"scopes": "read"` is a 400 naming `scopes`, not silently `["read"]`, and `"name": 5` is not "5".
 */
function strictBodyValidators(): AjvCompiler.BuildCompilerFromPool {
  const build = AjvCompiler();
  return (externalSchemas, options) => {
    const coercing = build(externalSchemas, options);
    const customOptions = { ...(options?.customOptions as Record<string, unknown>), coerceTypes: false };
    const strict = build(externalSchemas, { ...options, customOptions } as typeof options);
    return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
  };
}

/** One concise access-log line per request, after the response; URLs with secrets masked. */
class AccessLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: redactUrl(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (error) request.log.error({ ...line, err: error }, 'request failed');
    else request.log.info(line, 'request');
  }
}
