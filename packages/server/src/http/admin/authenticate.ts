/**
 * Every admin route requires the admin key as `Authorization: Bearer …`. Health routes and
 * /metrics (which has its own optional token) are the only exceptions. A store outage answers
 * 503 (from the error handler), never a pass.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AdminCredentialStore, verifyAdminAuthorization } from '../../core/admin/admin-keys.js';
import type { AuditLog } from '../../core/audit/audit.js';
import { findDuplicateHeader } from '../auth-request.js';
import { ProblemError } from '../problem.js';
import { credentialQueryParameters } from '../url-redaction.js';
import { METRICS_PATH } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin credential that authenticated this request (set by the admin surface). */
    adminId: string | null;
  }
}

/** Health, and /metrics (which checks its own token: see ./metrics.ts). */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', METRICS_PATH]);
const CHALLENGE = { 'www-authenticate': 'Bearer realm="gatehouse-admin"' };

/** The audit actor of an admin request. */
export const adminActor = (request: FastifyRequest): string => `admin:${request.adminId ?? 'unknown'}`;

/**
 * A credential in the URL ends up in shell history, proxy logs and Referer headers: the admin API
 * takes the admin key (and every other secret) only in headers or bodies, and refuses a query
 * that carries one — naming the parameter, never echoing its value (RFC 6750 §2.3, §5.3;
 * docs/security.md #26). Checked before authentication, on every admin path.
 */
function refuseCredentialsInQuery(url: string): void {
  const question = url.indexOf('?');
  if (question === -1) return;
  const names = credentialQueryParameters(url.slice(question + 1).split('#')[0] ?? '');
  if (names.length === 0) return;
  const message =
    'credentials are not accepted in the query string; send the admin key as "Authorization: Bearer <key>"';
  throw new ProblemError('invalid-request', `Credentials are not accepted in the query string: ${names.join(', ')}`, {
    errors: names.map((field) => ({ field, message })),
  });
}

export function requireAdminKey(app: FastifyInstance, credentials: AdminCredentialStore, audit: AuditLog): void {
  app.decorateRequest('adminId', null);
  app.addHook('onRequest', async (request) => {
    refuseCredentialsInQuery(request.url);
    if (PUBLIC_PATHS.has(request.url.split('?')[0] ?? '')) return;
    const duplicate = findDuplicateHeader(request.raw.rawHeaders);
    if (duplicate) throw new ProblemError('duplicate-header', `The ${duplicate} header appears more than once`);
    const result = await verifyAdminAuthorization(credentials, request.headers.authorization);
    if (!result.ok) {
      if (result.reason !== 'missing') audit.recordFailure({ method: 'admin', reason: result.reason, ip: request.ip });
      const detail =
        result.reason === 'missing'
          ? 'The admin API requires the admin key as "Authorization: Bearer <key>"'
          : 'The admin key is not valid';
      throw new ProblemError('unauthorized', detail, { headers: CHALLENGE });
    }
    request.adminId = result.credential.id;
  });
}
