/**
 * How the OAuth surface answers errors: RFC 6749 §5.2 JSON bodies, never problem+json.
 * `invalid_client` is 401 with a `WWW-Authenticate: Basic` challenge (RFC 6749 §5.2 requires it
 * when the client used the Authorization header; it is sent in every case, since RFC 9110
 * §15.5.2 requires a challenge on every 401). Store outages are 503 `temporarily_unavailable`.
 */
import type { FastifyError, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import {
  InvalidClient,
  InvalidRequest,
  type OAuthError,
  oauthErrorBody,
  TemporarilyUnavailable,
} from '../../core/oauth/errors.js';
import {
  HTTPS_REQUIRED,
  HTTPS_REQUIRED_DESCRIPTION,
  type SecretTransportPolicy,
} from '../../core/transport/secret-transport.js';
import { isStoreUnavailable } from '../../store/errors.js';
import { mayCarrySecret } from '../connection.js';

export const CLIENT_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"';

/** RFC 6749 §5.1: token responses (and errors of the token endpoint) must not be cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error instanceof InvalidClient) reply.header('www-authenticate', CLIENT_CHALLENGE);
  if (error instanceof TemporarilyUnavailable) reply.header('retry-after', '5');
  return noStore(reply).code(error.status).type('application/json; charset=utf-8').send(oauthErrorBody(error));
}

/** A thrown error that carries an OAuth error to answer (for parsing hooks). */
export class OAuthRequestError extends Error {
  constructor(readonly oauthError: OAuthError) {
    super(oauthError.description);
    this.name = 'OAuthRequestError';
  }
}

/** The surface's error handler: anything thrown becomes an RFC 6749 body; internals go to the log only. */
export function oauthErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof OAuthRequestError) return sendOAuthError(reply, error.oauthError);
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: { message: error.message } }, 'store unavailable');
    return sendOAuthError(reply, new TemporarilyUnavailable('The store is unreachable; try again shortly'));
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? 'The request body is too large' : 'The request is malformed';
    return sendOAuthError(reply, new InvalidRequest(message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return noStore(reply)
    .code(500)
    .type('application/json; charset=utf-8')
    .send({ error: 'server_error', error_description: 'An internal error occurred; it has been logged' });
}

/**
 * The HTTPS rule of every secret (../connection.ts `mayCarrySecret`) for the endpoints clients
 * authenticate at: RFC 6749 §2.3.1 (client passwords) and §3.2 (the token endpoint) require TLS.
 * Over plain HTTP the answer is RFC 6749 §5.2 `invalid_client`, 401 with the Basic challenge,
 * the description of every `https_required` refusal: the client's credentials are refused
 * unread, so it did not authenticate. Runs at onRequest, before the body is parsed.
 */
export function requireHttpsForClients(
  transport: SecretTransportPolicy,
  audit: AuditLog,
  method: string,
): onRequestHookHandler {
  return async (request, reply) => {
    if (mayCarrySecret(request, transport)) return;
    audit.recordFailure({ method, reason: HTTPS_REQUIRED, ip: request.ip });
    return sendOAuthError(reply, new InvalidClient(HTTPS_REQUIRED_DESCRIPTION, false, HTTPS_REQUIRED));
  };
}
