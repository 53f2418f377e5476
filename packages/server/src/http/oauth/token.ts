/**
 * `POST /oauth/token` (RFC 6749 §3.2). Form body only; `Cache-Control: no-store` on every answer
 * (RFC 6749 §5.1, docs/security.md #19); errors as RFC 6749 §5.2 JSON.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import { InvalidClient, InvalidRequest } from '../../core/oauth/errors.js';
import type { TokenEndpoint } from '../../core/oauth/token-endpoint.js';
import type { SecretTransportPolicy } from '../../core/transport/secret-transport.js';
import { findDuplicateHeader } from '../auth-request.js';
import { noStore, requireHttpsForClients, sendOAuthError } from './errors.js';
import { readForm } from './form.js';

export function registerTokenRoute(
  app: FastifyInstance,
  options: { tokenEndpoint: TokenEndpoint; audit: AuditLog; transport: SecretTransportPolicy },
): void {
  const { tokenEndpoint, audit } = options;
  // RFC 6749 §3.2: the token endpoint MUST require TLS.
  const onRequest = requireHttpsForClients(options.transport, audit, 'oauth_token');
  app.post('/oauth/token', { onRequest }, async (request, reply) => {
    const duplicate = findDuplicateHeader(request.raw.rawHeaders);
    if (duplicate) return sendOAuthError(reply, new InvalidRequest(`The ${duplicate} header appears more than once`));
    const form = readForm(request);
    if (!form.ok) return sendOAuthError(reply, form.error);
    const outcome = await tokenEndpoint.exchange({
      authorization: request.headers.authorization,
      params: form.params,
      ip: request.ip,
    });
    if (!outcome.ok) {
      const { error } = outcome;
      const reason = error instanceof InvalidClient ? error.reason : error.error;
      audit.recordFailure({ method: 'oauth_token', reason, ip: request.ip, target: outcome.clientId ?? null });
      request.log.info(
        { grant_type: outcome.grantType, client_id: outcome.clientId, error: error.error, reason },
        'token request refused',
      );
      return sendOAuthError(reply, error);
    }
    request.log.debug(
      { grant_type: outcome.grantType, client_id: outcome.client.id, sub: outcome.subject, jti: outcome.jti },
      'token issued',
    );
    return noStore(reply).code(200).type('application/json; charset=utf-8').send(outcome.response);
  });
}
