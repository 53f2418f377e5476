/**
 * The gateway's decision for one request, shared by plain HTTP requests and WebSocket upgrades:
 * canonicalise the target and host, find the route (default deny), decide through the pipeline.
 * The steps run in this order, and the first that refuses answers:
 *
 * 1. `checkHeaders`   a credential or Host header sent twice            → 400
 * 2. `checkTarget`    path tricks, encoded slashes, fragments, bad hosts → 400
 * 3. `findRoute`      no route covers the request                       → 404 / 405
 * 4. `checkUpstream`  the route is for forward auth only                → 404
 * 5. `authenticate`   the route's mechanisms and scopes, its rate limit  → 401 / 403 / 429
 * 6. `translate`      `forward: jwt`: a short-lived internal JWT for the upstream
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AuditLog } from '../../core/audit/audit.js';
import type { Pipeline } from '../../core/pipeline/pipeline.js';
import type { Identity } from '../../core/pipeline/types.js';
import { decideRouteAccess, type RouteDecision } from '../../core/policies/route-access.js';
import { type ActiveRoutes, ANONYMOUS, locateRoute, type RoutePolicy } from '../../core/policies/routes.js';
import type { TokenTranslator } from '../../core/policies/token-translation.js';
import type { RateLimiter } from '../../core/ratelimit/limiter.js';
import { denialOutcome, type GatehouseMetrics, NO_ROUTE_LABEL, type Outcome } from '../../observability/metrics.js';
import { authRequestFrom, findDuplicateHeader, singletonHeaders } from '../auth-request.js';
import type { DecisionLog } from '../decision-log.js';
import type { ProblemCode } from '../problem.js';

/**
 * Headers that must appear once on the gateway: credentials (with the API-key header the
 * mechanisms declare), and Host (two hosts = two readings).
 */
const singletonsOf = new WeakMap<Pipeline, readonly string[]>();
function gatewaySingletons(pipeline: Pipeline): readonly string[] {
  let singletons = singletonsOf.get(pipeline);
  if (!singletons) {
    singletons = singletonHeaders([...pipeline.credentialHeaders, 'host']);
    singletonsOf.set(pipeline, singletons);
  }
  return singletons;
}

export interface GatewayContext {
  readonly routes: ActiveRoutes;
  /** The shared rate limiter, for routes' `rate_limit`. */
  readonly limiter: RateLimiter;
  readonly tokenTranslator: TokenTranslator;
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
  readonly metrics: GatehouseMetrics;
  /** One line per decision (`log.decisions`); null or absent: off. */
  readonly decisionLog?: DecisionLog | null;
}

/** The parts of a request the decision needs (from a Fastify request or a raw upgrade request). */
export interface GatewayRequest {
  readonly method: string;
  /** The request target exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** The Host the client asked for (from a trusted proxy's X-Forwarded-Host when `trust_proxy` says so). */
  readonly host: string;
  readonly clientIp: string;
  readonly secure: boolean;
  /** For the decision log; absent: the line has none. */
  readonly requestId?: string;
}

export type GatewayVerdict =
  | {
      readonly allow: true;
      readonly route: RoutePolicy;
      /** null when the route let an anonymous caller through. */
      readonly identity: Identity | null;
      /** Headers for the client's response (rate limits of the key and of the route). */
      readonly responseHeaders: Readonly<Record<string, string>> | undefined;
      /** Canonical path and the query as sent. */
      readonly path: string;
      readonly query: string;
      /** The translated token for the upstream (`forward: jwt`), when there is one. */
      readonly bearer: string | null;
    }
  | {
      readonly allow: false;
      readonly status: number;
      readonly problem: ProblemCode;
      readonly detail: string;
      readonly headers: Readonly<Record<string, string | readonly string[]>>;
      /** The route's own body for this status (`responses:` in the config), when it has one. */
      readonly body?: unknown;
      /** For logs and audit. */
      readonly reason: string;
    };

const DENIAL_PROBLEMS: Record<number, ProblemCode> = {
  400: 'invalid-request',
  401: 'unauthorized',
  403: 'forbidden',
  429: 'rate-limited',
};

export async function authorizeGatewayRequest(
  context: GatewayContext,
  request: GatewayRequest,
): Promise<GatewayVerdict> {
  const started = performance.now();
  const log = (
    outcome: Outcome,
    status: number | undefined,
    reason: string,
    extra: { route?: RoutePolicy; method?: string; identity?: Identity | null; target?: string } = {},
  ): void =>
    context.decisionLog?.({
      surface: 'gateway',
      requestId: request.requestId ?? '',
      outcome,
      status,
      method: extra.method,
      identity: extra.identity,
      target: extra.target,
      route: extra.route?.name,
      reason,
      latencyMs: performance.now() - started,
      ip: request.clientIp,
    });
  const refuse = (
    status: number,
    problem: ProblemCode,
    detail: string,
    reason: string,
    outcome: Outcome,
    extra: { route?: RoutePolicy; headers?: Record<string, string | readonly string[]> } = {},
  ): GatewayVerdict => {
    context.metrics.decision(
      'gateway',
      extra.route?.name ?? NO_ROUTE_LABEL,
      'none',
      outcome,
      (performance.now() - started) / 1000,
    );
    log(outcome, status, reason, extra.route ? { route: extra.route } : {});
    return { allow: false, status, problem, detail, reason, headers: extra.headers ?? {} };
  };

  // 1. checkHeaders (docs/security.md #28)
  const duplicate = findDuplicateHeader(request.rawHeaders, gatewaySingletons(context.pipeline));
  if (duplicate) {
    return refuse(
      400,
      'duplicate-header',
      `The ${duplicate} header appears more than once`,
      'duplicate_header',
      'bad_request',
    );
  }
  // 2. checkTarget, 3. findRoute (default deny)
  const located = locateRoute(context.routes.current(), request.method, request.url, request.host);
  if (located.kind === 'bad_target') {
    const { failure } = located;
    return refuse(400, 'invalid-request', failure.detail, `target_${failure.reason}`, 'bad_request');
  }
  if (located.kind === 'bad_host') {
    return refuse(400, 'invalid-request', 'The Host header is not a valid host', 'bad_host', 'bad_request');
  }
  if (located.kind === 'no_route') {
    return refuse(404, 'no-route', `No route covers ${request.method} ${located.path}`, 'no_route', 'no_route');
  }
  if (located.kind === 'method_not_allowed') {
    return refuse(
      405,
      'method-not-allowed',
      `${request.method} is not allowed on ${located.path}; allowed: ${located.allowed.join(', ')}`,
      'method_not_allowed',
      'no_route',
      { headers: { allow: located.allowed.join(', ') } },
    );
  }
  const { route } = located;
  // 4. checkUpstream: a forward-auth-only route never falls through to a less specific one.
  if (route.upstream === null) {
    return refuse(
      404,
      'no-route',
      `Route "${route.name}" has no upstream (forward auth only)`,
      'no_upstream',
      'no_route',
      {
        route,
      },
    );
  }
  // 5. authenticate (a store outage throws: counted, then answered 503 by the error handler)
  let decision: RouteDecision;
  try {
    decision = await decideRouteAccess(
      context,
      route,
      authRequestFrom({
        headers: request.headers,
        method: request.method,
        url: located.url,
        secure: request.secure,
        clientIp: request.clientIp,
      }),
    );
  } catch (error) {
    context.metrics.decision('gateway', route.name, 'none', 'unavailable', (performance.now() - started) / 1000);
    log('unavailable', 503, 'store_unavailable', { route });
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  if (decision.allow) {
    const method = decision.identity?.method ?? ANONYMOUS;
    context.metrics.decision('gateway', route.name, method, 'allowed', seconds);
    log('allowed', undefined, 'ok', { route, method, identity: decision.identity });
    // 6. translate (forward: jwt): the upstream gets one kind of credential, whatever was presented.
    const bearer =
      route.forward === 'jwt' && decision.identity
        ? await context.tokenTranslator.translate(route, decision.identity)
        : null;
    return {
      allow: true,
      route,
      identity: decision.identity,
      responseHeaders: decision.headers,
      path: located.path,
      query: located.query,
      bearer,
    };
  }
  const { denial } = decision;
  context.metrics.decision('gateway', route.name, denial.method ?? 'none', denialOutcome(denial.status), seconds);
  log(denialOutcome(denial.status), denial.status, denial.reason, {
    route,
    ...(denial.method === undefined ? {} : { method: denial.method }),
    ...(denial.identity === undefined ? {} : { identity: denial.identity }),
    ...(denial.target === undefined ? {} : { target: denial.target }),
  });
  if (denial.reason !== 'no_credentials') {
    context.audit.recordFailure({ method: denial.method ?? 'none', reason: denial.reason, ip: request.clientIp });
  }
  const headers: Record<string, string | readonly string[]> = { ...denial.headers };
  if (denial.challenges.length > 0) headers['www-authenticate'] = denial.challenges;
  const custom = denial.status === 401 || denial.status === 403 ? route.responses[denial.status] : undefined;
  return {
    allow: false,
    status: denial.status,
    problem: DENIAL_PROBLEMS[denial.status] ?? 'forbidden',
    detail: denial.description,
    reason: denial.reason,
    headers,
    ...(custom === undefined ? {} : { body: custom }),
  };
}
