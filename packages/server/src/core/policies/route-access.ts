/**
 * Deciding a request against a route's policy, through the authentication pipeline.
 *
 * - `auth: [anonymous]`: the request passes without looking at credentials (the gateway still
 *   strips them before forwarding);
 * - `auth: [apikey, anonymous]`: optional authentication. A request without credentials passes
 *   as anonymous; a request *with* a credential has it verified, and a bad one is refused (a
 *   client that sends a wrong key learns so instead of silently being treated as nobody);
 * - otherwise the pipeline decides with the route's mechanisms and scopes.
 * Infrastructure failures propagate (the HTTP layer answers 503, never a pass).
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import type { AccessPolicy, AuthRequest, Decision, Denial, Identity } from '../pipeline/types.js';
import { ANONYMOUS, type RoutePolicy } from './routes.js';

export type RouteDecision =
  | {
      readonly allow: true;
      /** `null` for a caller let through anonymously. */
      readonly identity: Identity | null;
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

export async function decideRouteAccess(
  pipeline: Pipeline,
  route: RoutePolicy,
  request: AuthRequest,
): Promise<RouteDecision> {
  const policy = accessPolicyOf(route);
  const anonymousAllowed = route.auth.includes(ANONYMOUS);
  if (anonymousAllowed && policy.methods?.length === 0) return ANONYMOUS_PASS;
  const decision: Decision = await pipeline.decide(request, policy);
  if (decision.allow) return decision;
  if (anonymousAllowed && (decision.denial.reason === 'no_credentials' || decision.denial.reason === 'no_mechanism')) {
    return ANONYMOUS_PASS;
  }
  return decision;
}
