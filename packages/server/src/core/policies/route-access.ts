/**
 * Deciding a request against a route's policy, through the authentication pipeline, then the
 * route's rate limit.
 *
 * - `auth: [anonymous]`: the request passes without looking at credentials (the gateway still
 *   strips them before forwarding);
 * - `auth: [apikey, anonymous]`: optional authentication. A request without credentials passes
 *   as anonymous; a request *with* a credential has it verified, and a bad one is refused (a
 *   client that sends a wrong key learns so instead of silently being treated as nobody);
 * - otherwise the pipeline decides with the route's mechanisms and scopes;
 * - `rate_limit`: counted per caller at this route — per subject when authenticated (every
 *   credential of one user or service shares it), per client address when anonymous — with the
 *   shared limiter; over the limit is a 429 with `Retry-After` and `RateLimit-*` headers
 *   (draft-ietf-httpapi-ratelimit-headers), which also accompany allowed requests.
 * Infrastructure failures propagate (the HTTP layer answers 503, never a pass).
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import type { AccessPolicy, AuthRequest, Decision, Denial, Identity } from '../pipeline/types.js';
import { type RateLimiter, type RateLimitResult, rateLimitHeaders } from '../ratelimit/limiter.js';
import { ANONYMOUS, type RoutePolicy } from './routes.js';

export type RouteDecision =
  | {
      readonly allow: true;
      /** `null` for a caller let through anonymously. */
      readonly identity: Identity | null;
      /** Response headers from the decision (the mechanism's and the route's rate limits). */
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly allow: false; readonly denial: Denial };

const ANONYMOUS_PASS: RouteDecision = { allow: true, identity: null };

/** What the pipeline is asked for a route: its mechanisms (without `anonymous`) and scopes. */
const accessPolicies = new WeakMap<RoutePolicy, AccessPolicy>();
function accessPolicyOf(route: RoutePolicy): AccessPolicy {
  let policy = accessPolicies.get(route);
  if (!policy) {
    policy = { methods: route.auth.filter((name) => name !== ANONYMOUS), scopes: route.scopes };
    accessPolicies.set(route, policy);
  }
  return policy;
}

export interface RouteAccessContext {
  readonly pipeline: Pipeline;
  readonly limiter: RateLimiter;
}

/**
 * Synchronous when memory answers (a cached credential, the in-memory limiter), so forward auth
 * makes no promise on its hot path; a promise otherwise. Callers `await` it either way; a
 * synchronous throw is an infrastructure failure like a rejection.
 */
export function decideRouteAccess(
  context: RouteAccessContext,
  route: RoutePolicy,
  request: AuthRequest,
): RouteDecision | Promise<RouteDecision> {
  const decision = authenticate(context.pipeline, route, request);
  if (decision instanceof Promise) return decision.then((settled) => limitIfAllowed(context, route, request, settled));
  return limitIfAllowed(context, route, request, decision);
}

function limitIfAllowed(
  context: RouteAccessContext,
  route: RoutePolicy,
  request: AuthRequest,
  decision: RouteDecision,
): RouteDecision | Promise<RouteDecision> {
  if (!decision.allow || route.rateLimit === null) return decision;
  return limit(context.limiter, route, request, decision);
}

function authenticate(
  pipeline: Pipeline,
  route: RoutePolicy,
  request: AuthRequest,
): RouteDecision | Promise<RouteDecision> {
  const policy = accessPolicyOf(route);
  const anonymousAllowed = route.auth.includes(ANONYMOUS);
  if (anonymousAllowed && policy.methods?.length === 0) return ANONYMOUS_PASS;
  const decision = pipeline.decide(request, policy);
  if (decision instanceof Promise) return decision.then((settled) => orAnonymous(settled, anonymousAllowed));
  return orAnonymous(decision, anonymousAllowed);
}

/** With `anonymous` among the route's mechanisms, no credential at all is an anonymous pass. */
function orAnonymous(decision: Decision, anonymousAllowed: boolean): RouteDecision {
  if (decision.allow) return decision;
  if (anonymousAllowed && (decision.denial.reason === 'no_credentials' || decision.denial.reason === 'no_mechanism')) {
    return ANONYMOUS_PASS;
  }
  return decision;
}

function limit(
  limiter: RateLimiter,
  route: RoutePolicy,
  request: AuthRequest,
  decision: Extract<RouteDecision, { allow: true }>,
): RouteDecision | Promise<RouteDecision> {
  const rule = route.rateLimit as NonNullable<RoutePolicy['rateLimit']>;
  const caller = decision.identity ? `sub:${decision.identity.subject}` : `ip:${request.clientIp}`;
  const result = limiter.consume(`route:${route.name}:${caller}`, rule);
  if (result instanceof Promise) return result.then((settled) => limited(route, rule, decision, settled));
  return limited(route, rule, decision, result);
}

function limited(
  route: RoutePolicy,
  rule: NonNullable<RoutePolicy['rateLimit']>,
  decision: Extract<RouteDecision, { allow: true }>,
  result: RateLimitResult,
): RouteDecision {
  // The route's limit is the one the caller hits here: its headers win over a mechanism's.
  const headers = { ...decision.headers, ...rateLimitHeaders(result, rule) };
  if (result.allowed) return { ...decision, headers };
  return {
    allow: false,
    denial: {
      status: 429,
      error: 'rate_limited',
      description: `Too many requests to route "${route.name}"; retry after the time in Retry-After`,
      reason: 'route_rate_limited',
      challenges: [],
      headers,
      ...(decision.identity ? { identity: decision.identity, method: decision.identity.method } : {}),
    },
  };
}
