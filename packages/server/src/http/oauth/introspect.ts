/**
 * `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009): both take a form body,
 * authenticate the calling client (RFC 7662 §2.1, RFC 7009 §2.1; docs/security.md #18, #23, #24) and
 * answer `Cache-Control: no-store`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { ClientAuthenticator } from '../../core/oauth/client-auth.js';
import type { OAuthClient } from '../../core/oauth/clients.js';
import { InvalidClient, InvalidRequest, UnsupportedTokenType } from '../../core/oauth/errors.js';
import type { Introspector } from '../../core/oauth/introspection.js';
import type { OAuthParams } from '../../core/oauth/params.js';
import type { Revoker } from '../../core/oauth/revocation.js';
import type { SecretTransportPolicy } from '../../core/transport/secret-transport.js';
import { findDuplicateHeader } from '../auth-request.js';
import { noStore, requireHttpsForClients, sendOAuthError } from './errors.js';
import { readForm } from './form.js';

export interface TokenManagementOptions {
  readonly clientAuth: ClientAuthenticator;
  readonly introspector: Introspector;
  readonly revoker: Revoker;
  readonly audit: AuditLog;
  /** When plain HTTP may carry a client secret. */
  readonly transport: SecretTransportPolicy;
}

const TOKEN_TYPE_HINTS = new Set(['access_token', 'refresh_token']);

/** The shared front half: form, one client authentication, a `token` parameter. */
async function authenticatedRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  options: TokenManagementOptions,
  endpoint: string,
  allowPublic: boolean,
): Promise<{ client: OAuthClient; params: OAuthParams; token: string } | undefined> {
  const duplicate = findDuplicateHeader(request.raw.rawHeaders);
  if (duplicate) {
    sendOAuthError(reply, new InvalidRequest(`The ${duplicate} header appears more than once`));
    return undefined;
  }
  const form = readForm(request);
  if (!form.ok) {
    sendOAuthError(reply, form.error);
    return undefined;
  }
  const authenticated = await options.clientAuth.authenticate({
    authorization: request.headers.authorization,
    params: form.params,
  });
  if (!authenticated.ok) {
    const { error } = authenticated;
    options.audit.recordFailure({
      method: `oauth_${endpoint}`,
      reason: error instanceof InvalidClient ? error.reason : error.error,
      ip: request.ip,
    });
    sendOAuthError(reply, error);
    return undefined;
  }
  // RFC 7662 §2.1 requires authorization for introspection: a public client has no credential.
  if (!allowPublic && authenticated.method === 'none') {
    sendOAuthError(reply, new InvalidClient('Introspection requires an authenticated client', false, 'public_client'));
    return undefined;
  }
  const token = form.params.get('token');
  if (token === undefined) {
    sendOAuthError(reply, new InvalidRequest('token is missing'));
    return undefined;
  }
  return { client: authenticated.client, params: form.params, token };
}

export function registerTokenManagementRoutes(app: FastifyInstance, options: TokenManagementOptions): void {
  // RFC 6749 §2.3.1: the client secret both endpoints authenticate with is only taken over TLS.
  const introspectOnRequest = requireHttpsForClients(options.transport, options.audit, 'oauth_introspect');
  const revokeOnRequest = requireHttpsForClients(options.transport, options.audit, 'oauth_revoke');
  app.post('/oauth/introspect', { onRequest: introspectOnRequest }, async (request, reply) => {
    const input = await authenticatedRequest(request, reply, options, 'introspect', false);
    if (!input) return reply;
    const result = await options.introspector.introspect({
      token: input.token,
      hint: input.params.get('token_type_hint'),
      ip: request.ip,
    });
    request.log.debug({ client_id: input.client.id, active: result.active }, 'introspected');
    return noStore(reply).code(200).type('application/json; charset=utf-8').send(result);
  });

  app.post('/oauth/revoke', { onRequest: revokeOnRequest }, async (request, reply) => {
    const input = await authenticatedRequest(request, reply, options, 'revoke', true);
    if (!input) return reply;
    const hint = input.params.get('token_type_hint');
    // RFC 7009 §2.2.1: a hint naming a type we do not know of is `unsupported_token_type`.
    if (hint !== undefined && !TOKEN_TYPE_HINTS.has(hint)) {
      return sendOAuthError(reply, new UnsupportedTokenType(`token_type_hint ${hint} is not supported`));
    }
    const outcome = await options.revoker.revoke({ client: input.client, token: input.token, hint });
    if (!outcome.ok) return sendOAuthError(reply, outcome.error);
    if (outcome.revoked !== 'none') {
      options.audit.record({
        actor: `client:${input.client.id}`,
        action: `oauth.${outcome.revoked}.revoked`,
        ip: request.ip,
      });
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid; the body is ignored by clients.
    return noStore(reply).code(200).send();
  });
}
