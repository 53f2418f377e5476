/**
 * `/auth/verify` (any method): the authentication pipeline over HTTP, for forward-auth proxies
 * (nginx `auth_request`, Caddy `forward_auth`, Traefik `forwardAuth`, Envoy `ext_authz`) and for
 * services that ask directly.
 *
 * Without routes in the config, every enabled mechanism is tried and `?scope=a b` names the
 * scopes required. With routes, the original request the proxy describes (./original-request.ts)
 * picks the route, and the route's policy decides: its mechanisms (or anonymous), its scopes,
 * its 401/403 bodies; a request no route covers is refused (default deny, 403 so that every
 * proxy treats it as a denial: nginx only understands 2xx, 401 and 403).
 *
 * - 200 with identity headers (`X-Auth-Subject`, `X-Auth-Method`, `X-Auth-Scopes`,
 *   `X-Auth-Client-Id`, always all four, empty where they do not apply: see identity-headers.ts;
 *   `X-Auth-Method: anonymous` for an anonymous pass), plus `Authorization: Bearer <internal JWT>`
 *   for a route with `forward: jwt` (core/policies/token-translation.ts);
 * - 401 with one `WWW-Authenticate` challenge per accepted mechanism, 403 `insufficient_scope`
 *   or no route, 400 for malformed or ambiguous requests, 429 when throttled: JSON
 *   `{"error", "error_description"}` unless the route sets its own body;
 * - 503 problem+json when a decision needs the store and the store is unreachable: never 2xx, so
 *   proxies deny (docs/security.md #35, #36). This comes from the surface's error handler.
 *
 * Two doors, one decision: a GET or HEAD without a body is taken by a fast lane in front of
 * Fastify's router (../fastify.ts `installFastLane`), which answers from Node's own request and
 * response objects when the decision is made in memory (a cached key or token) — the case of
 * nearly every forward-auth call. When the decision needs the store (or a translated token has to
 * be signed) the lane hands the request, with its decision in flight, to the Fastify route, which
 * finishes it and turns a store outage into the 503. Both doors read the request through
 * `VerifyCall` and build their answer with `answer()`, so they cannot disagree; a differential
 * test (test/http/verify-fast-lane.test.ts) holds them to it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
// The module's binding rather than the global, which is an accessor run on every read.
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditLog } from '../../core/audit/audit.js';
import type { Pipeline } from '../../core/pipeline/pipeline.js';
import { parseScopeList } from '../../core/pipeline/pipeline.js';
import { singleQueryParameter } from '../../core/pipeline/query.js';
import type { AccessPolicy, AuthRequest, Denial, Identity } from '../../core/pipeline/types.js';
import { decideRouteAccess, type RouteDecision } from '../../core/policies/route-access.js';
import {
  type ActiveRoutes,
  ANONYMOUS,
  locateRoute,
  type RoutePolicy,
  type RouteTable,
} from '../../core/policies/routes.js';
import type { TokenTranslator } from '../../core/policies/token-translation.js';
import type { RateLimiter } from '../../core/ratelimit/limiter.js';
import { denialOutcome, type GatehouseMetrics, NO_ROUTE_LABEL } from '../../observability/metrics.js';
import { authRequestFrom, findDuplicateHeader, singletonHeaders } from '../auth-request.js';
import { compileProxyTrust, connectionFacts } from '../connection.js';
import { createDecisionLog, type DecisionLogLevel } from '../decision-log.js';
import { DENIED_HEADER, verifyDeniedCode } from '../denied-header.js';
import { installFastLane, requestId } from '../fastify.js';
import { setIdentityHeaders as identityHeaderValues } from '../identity-headers.js';
import { FORWARD_AUTH_SINGLETON_HEADERS, originalRequest, VERIFY_PATH } from './original-request.js';

export interface VerifyRouteOptions {
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
  readonly routes: ActiveRoutes;
  readonly metrics: GatehouseMetrics;
  readonly tokenTranslator: TokenTranslator;
  /** The shared rate limiter, for routes' `rate_limit`. */
  readonly limiter: RateLimiter;
  /** Proxies whose X-Forwarded-For/-Proto are believed (the listener's `trust_proxy`). */
  readonly trustProxy?: readonly string[];
  /** Answer in-memory decisions before Fastify routes the request (default true; tests compare both doors). */
  readonly fastLane?: boolean;
  /** The decision log's level (`log.decisions`, default `info`): one line per decision (../decision-log.ts). */
  readonly decisions?: DecisionLogLevel;
}

const invalidRequest = (description: string, reason: string): Denial => ({
  status: 400,
  error: 'invalid_request',
  description,
  reason,
  challenges: [],
});

const forbidden = (description: string, reason: string): Denial => ({
  status: 403,
  error: 'forbidden',
  description,
  reason,
  challenges: [],
});

/** What was decided, and under which route (for the body and the metrics). */
interface Verdict {
  readonly decision: RouteDecision;
  readonly route: RoutePolicy | null;
}

/** A verify request as both doors see it. */
interface VerifyCall {
  /** Node's request: method, URL, headers and raw header list. */
  readonly raw: IncomingMessage;
  /** After `trust_proxy`, as Fastify's `request.ip` / `request.protocol`. */
  readonly clientIp: string;
  readonly secure: boolean;
  /** Fastify's request logger; null in the fast lane, which makes one only to write a line. */
  readonly log: FastifyBaseLogger | null;
  /** Fastify's request id; the fast lane makes one only to write a line. */
  readonly id?: string;
}

/**
 * The response, before either door writes it. `body` undefined: none (Content-Length: 0).
 * Headers are an object, or for the 200 of an identity seen before, a flat list made once
 * (name, value, …, ending with `content-length: 0`) that Node writes without copying.
 */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]> | FlatHeaders;
  readonly body?: unknown;
}

type FlatHeaders = readonly string[];

/** A decision the fast lane started and the Fastify route finishes. */
interface HandedOver {
  readonly verdict: Promise<Verdict>;
  readonly started: number;
}

const NO_STORE = 'no-store';

/** The policy when `?scope=` is absent: one object for every such request, not one each. */
const NO_SCOPE_REQUIRED: AccessPolicy = Object.freeze({ scopes: Object.freeze([]) });

export function registerVerifyRoute(app: FastifyInstance, options: VerifyRouteOptions): void {
  const { pipeline, audit, routes, metrics, tokenTranslator } = options;
  const decisionLog = createDecisionLog(app.log as Logger, options.decisions ?? 'info');
  const idOf = (call: VerifyCall): string => call.id ?? requestId(call.raw);
  const singletons = singletonHeaders([...FORWARD_AUTH_SINGLETON_HEADERS, ...pipeline.credentialHeaders]);

  const authRequest = (call: VerifyCall, method: string, url: string): AuthRequest =>
    authRequestFrom({ headers: call.raw.headers, method, url, secure: call.secure, clientIp: call.clientIp });

  /** Forward auth with routes: the original request picks the route; default deny. */
  const decideWithRoutes = (call: VerifyCall, table: RouteTable): Verdict | Promise<Verdict> => {
    const original = originalRequest(call.raw);
    if (!original.ok) return deny(invalidRequest(original.description, 'ambiguous_original_request'));
    const located = locateRoute(table, original.method, original.uri, original.host);
    if (located.kind === 'bad_target') {
      return deny(invalidRequest(located.failure.detail, `target_${located.failure.reason}`));
    }
    if (located.kind === 'bad_host') {
      return deny(invalidRequest('The original request’s host is not a valid host', 'bad_host'));
    }
    // A method the route does not allow is no route too: 403, which every proxy reads as a denial.
    if (located.kind !== 'matched') {
      return deny(forbidden(`No route covers ${original.method} ${located.path}`, 'no_route'));
    }
    const { route } = located;
    const decision = decideRouteAccess(options, route, authRequest(call, original.method, located.url));
    return decision instanceof Promise
      ? decision.then((settled) => ({ decision: settled, route }))
      : { decision, route };
  };

  /** Without routes: every enabled mechanism, `?scope=a b` required. */
  const decideWithoutRoutes = (call: VerifyCall): Verdict | Promise<Verdict> => {
    const url = call.raw.url ?? VERIFY_PATH;
    // Read from the raw URL alike for both doors.
    const scope = singleQueryParameter(url, 'scope');
    if (scope === null) return deny(invalidRequest('The scope parameter appears more than once', 'duplicate_scope'));
    const policy = scope === undefined ? NO_SCOPE_REQUIRED : { scopes: parseScopeList(scope) };
    const decision = pipeline.decide(authRequest(call, call.raw.method ?? 'GET', url), policy);
    return decision instanceof Promise
      ? decision.then((settled) => ({ decision: settled, route: null }))
      : { decision, route: null };
  };

  /** Synchronous when memory answers; throws or rejects only when the store is needed and down. */
  const decide = (call: VerifyCall): Verdict | Promise<Verdict> => {
    const duplicate = findDuplicateHeader(call.raw.rawHeaders, singletons);
    if (duplicate) return deny(invalidRequest(`The ${duplicate} header appears more than once`, 'duplicate_header'));
    const table = routes.current();
    return table !== null ? decideWithRoutes(call, table) : decideWithoutRoutes(call);
  };

  /** A store outage: counted and logged, then answered 503 by the surface's error handler (never 2xx). */
  const unavailable = (call: VerifyCall, started: number) => (error: unknown) => {
    const elapsed = performance.now() - started;
    metrics.decision('verify', NO_ROUTE_LABEL, 'none', 'unavailable', elapsed / 1000);
    decisionLog?.({
      surface: 'verify',
      requestId: idOf(call),
      outcome: 'unavailable',
      status: 503,
      method: undefined,
      identity: undefined,
      route: undefined,
      reason: 'store_unavailable',
      latencyMs: elapsed,
      ip: call.clientIp,
      door: doorOf(call),
    });
    throw error;
  };

  /** Records the verdict (metrics, audit, log) and builds the answer. */
  const record = (call: VerifyCall, { decision, route }: Verdict, started: number): Answer => {
    const elapsed = performance.now() - started;
    const seconds = elapsed / 1000;
    const routeLabel = route?.name ?? NO_ROUTE_LABEL;
    if (decision.allow) {
      const method = decision.identity?.method ?? ANONYMOUS;
      metrics.decision('verify', routeLabel, method, 'allowed', seconds);
      decisionLog?.({
        surface: 'verify',
        requestId: idOf(call),
        outcome: 'allowed',
        status: 200,
        method,
        identity: decision.identity,
        route: route?.name,
        reason: 'ok',
        latencyMs: elapsed,
        ip: call.clientIp,
        door: doorOf(call),
      });
      return { status: 200, headers: identityHeaders(decision.identity, decision.headers) };
    }
    const { denial } = decision;
    const outcome = denial.reason === 'no_route' ? 'no_route' : denialOutcome(denial.status);
    metrics.decision('verify', routeLabel, denial.method ?? 'none', outcome, seconds);
    decisionLog?.({
      surface: 'verify',
      requestId: idOf(call),
      outcome,
      status: denial.status,
      method: denial.method,
      identity: denial.identity,
      target: denial.target,
      route: route?.name,
      reason: denial.reason,
      latencyMs: elapsed,
      ip: call.clientIp,
      door: doorOf(call),
    });
    if (denial.reason !== 'no_credentials') {
      audit.recordFailure({
        method: denial.method ?? 'none',
        reason: denial.reason,
        ip: call.clientIp,
        target: denial.target ?? null,
      });
    }
    return denialAnswer(denial, route);
  };

  /**
   * `forward: jwt` for an identified caller: the route and identity whose internal JWT the proxy
   * copies onto the request in place of the client's credential; null when there is none to sign.
   */
  const translation = ({ decision, route }: Verdict): { route: RoutePolicy; identity: Identity } | null =>
    decision.allow && decision.identity !== null && route?.forward === 'jwt'
      ? { route, identity: decision.identity }
      : null;

  const answer = (call: VerifyCall, verdict: Verdict, started: number): Answer | Promise<Answer> => {
    const answered = record(call, verdict, started);
    const translated = translation(verdict);
    if (translated === null) return answered;
    return tokenTranslator.translate(translated.route, translated.identity).then((token) => ({
      ...answered,
      headers: { ...headerObject(answered.headers), authorization: `Bearer ${token}` },
    }));
  };

  // The Fastify door. Not an async function: an in-memory decision is answered without a
  // promise; otherwise the returned promise settles the request, and a rejection (the store is
  // down) reaches the error handler as a 503. A synchronous throw does too.
  const handedOver = new WeakMap<IncomingMessage, HandedOver>();
  const send = (reply: FastifyReply, result: Answer): void => {
    reply.code(result.status).headers(headerObject(result.headers));
    if (result.body === undefined) reply.send();
    else reply.send(result.body);
  };
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined => {
    const call: VerifyCall = {
      raw: request.raw,
      clientIp: request.ip,
      secure: request.protocol === 'https',
      log: request.log,
      id: request.id,
    };
    const handed = handedOver.get(request.raw);
    const started = handed?.started ?? performance.now();
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = handed?.verdict ?? decide(call);
    } catch (error) {
      reply.header(DENIED_HEADER, 'store-unavailable');
      return unavailable(call, started)(error);
    }
    const finish = (settled: Verdict): Promise<void> | undefined => {
      const result = answer(call, settled, started);
      if (result instanceof Promise) return result.then((ready) => send(reply, ready));
      send(reply, result);
      return undefined;
    };
    const failed = (error: unknown) => {
      reply.header(DENIED_HEADER, 'store-unavailable');
      return unavailable(call, started)(error);
    };
    return verdict instanceof Promise ? verdict.then(finish, failed) : finish(verdict);
  };

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: VERIFY_PATH,
    handler,
  });
  // Envoy ext_authz sends the original path below the configured path_prefix.
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: `${VERIFY_PATH}/*`,
    handler,
  });

  if (options.fastLane === false) return;

  // The fast lane: GET or HEAD /auth/verify[?query] without a body — what nginx, Caddy and
  // Traefik send. Anything else (other methods, bodies, Envoy's path suffix, odd spellings of the
  // path) goes to Fastify, whose router and body handling then apply as usual.
  const trust = compileProxyTrust(options.trustProxy);
  const lane = (request: IncomingMessage, response: ServerResponse): boolean => {
    const { method, url } = request;
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined || !isVerifyUrl(url) || hasBody(request)) {
      return false;
    }
    const started = performance.now();
    const facts = connectionFacts(request, trust);
    const call: VerifyCall = { raw: request, clientIp: facts.clientIp, secure: facts.secure, log: null };
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = decide(call);
    } catch (error) {
      verdict = Promise.reject(error);
    }
    if (verdict instanceof Promise || translation(verdict) !== null) {
      const inFlight = Promise.resolve(verdict);
      // Handled by the route right after this returns; this only keeps Node from reporting a
      // rejection as unhandled in between.
      inFlight.catch(() => {});
      handedOver.set(request, { verdict: inFlight, started });
      return false;
    }
    writeAnswer(response, record(call, verdict, started));
    return true;
  };
  installFastLane(app, lane);
}

/** Which door answered, in the log lines (`fast_lane` or `router`). */
const doorOf = (call: VerifyCall): string => (call.log === null ? 'fast_lane' : 'router');

const deny = (denial: Denial): Verdict => ({ decision: { allow: false, denial }, route: null });

/** `/auth/verify` exactly, with or without a query: the spellings Fastify's router maps to the route. */
const isVerifyUrl = (url: string): boolean =>
  url.startsWith(VERIFY_PATH) && (url.length === VERIFY_PATH.length || url.charCodeAt(VERIFY_PATH.length) === 63); // '?'

/** A body is framed by Content-Length (other than 0) or Transfer-Encoding (RFC 9112 §6). */
const hasBody = (request: IncomingMessage): boolean => {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
};

/** The 200 headers of an identity seen before: an identity is immutable, a cached one comes back often. */
const headersByIdentity = new WeakMap<Identity, FlatHeaders>();

/**
 * 200: `Cache-Control: no-store` and the four `X-Auth-*` headers (all four, empty where they do
 * not apply: ../identity-headers.ts), plus the decision's own (rate-limit headers).
 */
function identityHeaders(
  identity: Identity | null,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> | FlatHeaders {
  const made = (): Record<string, string> => {
    const headers: Record<string, string> = { 'cache-control': NO_STORE };
    identityHeaderValues(headers, identity, extra, { complete: true });
    return headers;
  };
  if (identity === null || extra !== undefined) return made();
  let known = headersByIdentity.get(identity);
  if (known === undefined) {
    known = Object.freeze([...Object.entries(made()).flat(), 'content-length', '0']);
    headersByIdentity.set(identity, known);
  }
  return known;
}

/** Headers as an object (for Fastify's reply, which sets the length itself). */
function headerObject(headers: Answer['headers']): Record<string, string | string[]> {
  if (!Array.isArray(headers)) return headers as Record<string, string | string[]>;
  const object: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') object[headers[i] as string] = headers[i + 1] as string;
  }
  return object;
}

function denialAnswer(denial: Denial, route: RoutePolicy | null): Answer {
  const headers: Record<string, string | string[]> = {};
  if (denial.challenges.length > 0) headers['www-authenticate'] = denial.challenges as string[];
  if (denial.headers) Object.assign(headers, denial.headers);
  headers['cache-control'] = NO_STORE;
  headers[DENIED_HEADER] = verifyDeniedCode(denial.status, denial.reason);
  const custom = route && (denial.status === 401 || denial.status === 403) ? route.responses[denial.status] : undefined;
  return {
    status: denial.status,
    headers,
    body: custom ?? { error: denial.error, error_description: denial.description },
  };
}

/** The fast lane's writer: what Fastify's reply would send for the same answer. */
function writeAnswer(response: ServerResponse, { status, headers: given, body }: Answer): void {
  if (Array.isArray(given)) {
    response.writeHead(status, given as string[]);
    response.end();
    return;
  }
  const headers = given as Record<string, string | string[]>;
  if (body === undefined) {
    headers['content-length'] = '0';
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(text));
  response.writeHead(status, headers);
  response.end(text);
}
