/**
 * `/auth/verify` (any method): the authentication pipeline over HTTP, for forward-auth proxies
 * (nginx `auth_request`, Caddy `forward_auth`, Traefik `forwardAuth`, Envoy `ext_authz`) and for
 * services that ask directly.
 *
 * - 200 with identity headers when the pipeline allows;
 * - 401 with one `WWW-Authenticate` challenge per accepted mechanism, 403 `insufficient_scope`,
 *   400 for malformed requests, 429 when throttled: JSON `{"error", "error_description"}`;
 * - 503 problem+json when a decision needs the store and the store is unreachable: never 2xx, so
 *   proxies deny (SECURITY.md #35, #36). This comes from the surface's error handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { Pipeline } from '../../core/pipeline/pipeline.js';
import { parseScopeList } from '../../core/pipeline/pipeline.js';
import type { Decision, Denial, Identity } from '../../core/pipeline/types.js';
import { findDuplicateHeader, headerSafe, singletonHeaders, toAuthRequest } from '../auth-request.js';

export interface VerifyRouteOptions {
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
}

export function registerVerifyRoute(app: FastifyInstance, options: VerifyRouteOptions): void {
  const { pipeline, audit } = options;
  const singletons = singletonHeaders(pipeline.credentialHeaders);

  /** Answers the decision; the same whether it came synchronously or not. */
  const respond = (request: FastifyRequest, reply: FastifyReply, decision: Decision): void => {
    if (decision.allow) {
      setIdentityHeaders(reply, decision.identity);
      if (decision.headers) reply.headers(decision.headers);
      request.log.debug({ subject: decision.identity.subject, method: decision.identity.method }, 'allowed');
      reply.code(200).header('cache-control', 'no-store').send();
      return;
    }
    const { denial } = decision;
    if (denial.reason !== 'no_credentials') {
      audit.recordFailure({
        method: denial.method ?? 'none',
        reason: denial.reason,
        ip: request.ip,
        target: denial.target ?? null,
      });
    }
    request.log.info({ status: denial.status, method: denial.method, reason: denial.reason }, 'denied');
    sendDenial(reply, denial);
  };

  // Not an async function: when memory answers (a cached key) the whole request is handled
  // without a promise; otherwise the returned promise settles it, and a rejection (the store is
  // down) reaches the error handler as a 503. A synchronous throw does too.
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined => {
    const duplicate = findDuplicateHeader(request.raw.rawHeaders, singletons);
    if (duplicate) {
      sendDenial(reply, {
        status: 400,
        error: 'invalid_request',
        description: `The ${duplicate} header appears more than once`,
        reason: 'duplicate_header',
        challenges: [],
      });
      return undefined;
    }
    const query = request.query as Record<string, unknown>;
    const scope = typeof query.scope === 'string' ? query.scope : undefined;
    const decision = pipeline.decide(toAuthRequest(request), { scopes: parseScopeList(scope) });
    if (decision instanceof Promise) return decision.then((settled) => respond(request, reply, settled));
    respond(request, reply, decision);
    return undefined;
  };

  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/auth/verify', handler });
}

export function setIdentityHeaders(reply: FastifyReply, identity: Identity): void {
  reply.header('x-auth-subject', headerSafe(identity.subject));
  reply.header('x-auth-method', identity.method);
  reply.header('x-auth-scopes', headerSafe(identity.scopes.join(' ')));
  if (identity.clientId !== undefined) reply.header('x-auth-client-id', headerSafe(identity.clientId));
}

export function sendDenial(reply: FastifyReply, denial: Denial): FastifyReply {
  if (denial.challenges.length > 0) reply.header('www-authenticate', denial.challenges as string[]);
  if (denial.headers) reply.headers(denial.headers);
  return reply
    .code(denial.status)
    .header('cache-control', 'no-store')
    .send({ error: denial.error, error_description: denial.description });
}
