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
 *   proxies deny (SECURITY.md #35, #36). This comes from the surface's error handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { Pipeline } from '../../core/pipeline/pipeline.js';
import { parseScopeList } from '../../core/pipeline/pipeline.js';
import type { Decision, Denial, Identity } from '../../core/pipeline/types.js';
import { canonicalHost } from '../../core/policies/host.js';
import { canonicalTarget } from '../../core/policies/request-target.js';
import { decideRouteAccess, type RouteDecision } from '../../core/policies/route-access.js';
import { type ActiveRoutes, ANONYMOUS, type RoutePolicy } from '../../core/policies/routes.js';
import type { TokenTranslator } from '../../core/policies/token-translation.js';
import type { RateLimiter } from '../../core/ratelimit/limiter.js';
import { type GatehouseMetrics, NO_ROUTE_LABEL, type Outcome } from '../../observability/metrics.js';
import { findDuplicateHeader, singletonHeaders, toAuthRequest } from '../auth-request.js';
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
}

const OUTCOMES: Record<number, Outcome> = {
  200: 'allowed',
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  429: 'rate_limited',
};

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

export function registerVerifyRoute(app: FastifyInstance, options: VerifyRouteOptions): void {
  const { pipeline, audit, routes, metrics, tokenTranslator } = options;
  const singletons = singletonHeaders([...FORWARD_AUTH_SINGLETON_HEADERS, ...pipeline.credentialHeaders]);

  /** Forward auth with routes: the original request picks the route; default deny. */
  const decideWithRoutes = async (request: FastifyRequest): Promise<Verdict> => {
    const table = routes.current();
    const original = originalRequest(request);
    if (!original.ok) return deny(invalidRequest(original.description, 'ambiguous_original_request'));
    const target = canonicalTarget(original.uri);
    if (!target.ok) return deny(invalidRequest(target.detail, `target_${target.reason}`));
    const host = canonicalHost(original.host);
    if (host === null) return deny(invalidRequest('The original request’s host is not a valid host', 'bad_host'));
    const found = table?.lookup(original.method, host, target.path) ?? { kind: 'no_route' as const };
    if (found.kind !== 'matched') {
      return deny(forbidden(`No route covers ${original.method} ${target.path}`, 'no_route'));
    }
    const url = target.query ? `${target.path}?${target.query}` : target.path;
    const decision = await decideRouteAccess(
      options,
      found.route,
      toAuthRequest(request, { method: original.method, url }),
    );
    return { decision, route: found.route };
  };

  /** A store outage: counted, then answered 503 by the surface's error handler (never 2xx). */
  const unavailable = (started: number) => (error: unknown) => {
    metrics.decision('verify', NO_ROUTE_LABEL, 'none', 'unavailable', (performance.now() - started) / 1000);
    throw error;
  };

  /** Answers a verdict; synchronous unless a translated token has to be signed. */
  const respond = (
    request: FastifyRequest,
    reply: FastifyReply,
    { decision, route }: Verdict,
    started: number,
  ): Promise<void> | undefined => {
    const seconds = (performance.now() - started) / 1000;
    const routeLabel = route?.name ?? NO_ROUTE_LABEL;
    if (decision.allow) {
      metrics.decision('verify', routeLabel, decision.identity?.method ?? ANONYMOUS, 'allowed', seconds);
      setIdentityHeaders(reply, decision.identity, decision.headers);
      request.log.debug({ subject: decision.identity?.subject, route: route?.name }, 'allowed');
      reply.code(200).header('cache-control', 'no-store');
      // forward: jwt — the proxy copies this onto the request in place of the client's credential.
      if (route?.forward === 'jwt' && decision.identity) {
        return tokenTranslator.translate(route, decision.identity).then((token) => {
          reply.header('authorization', `Bearer ${token}`).send();
        });
      }
      reply.send();
      return undefined;
    }
    const { denial } = decision;
    const outcome = denial.reason === 'no_route' ? 'no_route' : (OUTCOMES[denial.status] ?? 'forbidden');
    metrics.decision('verify', routeLabel, denial.method ?? 'none', outcome, seconds);
    if (denial.reason !== 'no_credentials') {
      audit.recordFailure({
        method: denial.method ?? 'none',
        reason: denial.reason,
        ip: request.ip,
        target: denial.target ?? null,
      });
    }
    request.log.info(
      { status: denial.status, method: denial.method, reason: denial.reason, route: route?.name },
      'denied',
    );
    sendDenial(reply, denial, route);
    return undefined;
  };

  // Not an async function: when memory answers (a cached key, no routes) the whole request is
  // handled without a promise; otherwise the returned promise settles it, and a rejection (the
  // store is down) reaches the error handler as a 503. A synchronous throw does too.
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined => {
    const started = performance.now();
    const duplicate = findDuplicateHeader(request.raw.rawHeaders, singletons);
    if (duplicate) {
      const denial = invalidRequest(`The ${duplicate} header appears more than once`, 'duplicate_header');
      return respond(request, reply, deny(denial), started);
    }
    if (routes.current() !== null) {
      return decideWithRoutes(request).then(
        (verdict) => respond(request, reply, verdict, started),
        unavailable(started),
      );
    }
    // Without routes: every enabled mechanism, `?scope=` required.
    const query = request.query as Record<string, unknown>;
    const scope = typeof query.scope === 'string' ? query.scope : undefined;
    let decision: Decision | Promise<Decision>;
    try {
      decision = pipeline.decide(toAuthRequest(request), { scopes: parseScopeList(scope) });
    } catch (error) {
      return unavailable(started)(error);
    }
    if (decision instanceof Promise) {
      return decision.then(
        (settled) => respond(request, reply, { decision: settled, route: null }, started),
        unavailable(started),
      );
    }
    return respond(request, reply, { decision, route: null }, started);
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
}

const deny = (denial: Denial): Verdict => ({ decision: { allow: false, denial }, route: null });

export function setIdentityHeaders(
  reply: FastifyReply,
  identity: Identity | null,
  extra?: Readonly<Record<string, string>>,
): void {
  const headers: Record<string, string> = {};
  identityHeaderValues(headers, identity, extra, { complete: true });
  reply.headers(headers);
}

export function sendDenial(reply: FastifyReply, denial: Denial, route: RoutePolicy | null = null): FastifyReply {
  if (denial.challenges.length > 0) reply.header('www-authenticate', denial.challenges as string[]);
  if (denial.headers) reply.headers(denial.headers);
  const custom = route && (denial.status === 401 || denial.status === 403) ? route.responses[denial.status] : undefined;
  return reply
    .code(denial.status)
    .header('cache-control', 'no-store')
    .send(custom ?? { error: denial.error, error_description: denial.description });
}
