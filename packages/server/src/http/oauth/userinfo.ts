/**
 * The UserInfo endpoint (OIDC Core §5.3): `GET` or `POST` with an access token that holds the
 * `openid` scope, as `Authorization: Bearer` or, for POST, the `access_token` form parameter
 * (RFC 6750 §2.2). Never from the query string (RFC 6750 §2.3, docs/security.md #26). Errors are
 * RFC 6750 §3 challenges.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { standardClaims } from '../../core/oauth/claims.js';
import {
  InsufficientScope,
  InvalidRequest,
  InvalidToken,
  type OAuthError,
  oauthErrorBody,
} from '../../core/oauth/errors.js';
import type { AccessTokens, UserDirectory } from '../../core/oauth/ports.js';
import { findDuplicateHeader } from '../auth-request.js';
import { readForm } from './form.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

function challenge(reply: FastifyReply, error: OAuthError | undefined): FastifyReply {
  const params = error
    ? `, error="${error.error}", error_description="${error.description.replace(/["\\]/g, '')}"`
    : '';
  reply.header('www-authenticate', `Bearer realm="gatehouse"${params}`).header('cache-control', 'no-store');
  if (!error) return reply.code(401).send();
  return reply.code(error.status).type('application/json; charset=utf-8').send(oauthErrorBody(error));
}

export function registerUserinfoRoute(
  app: FastifyInstance,
  options: { readonly accessTokens: AccessTokens; readonly users: () => UserDirectory | undefined },
): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (findDuplicateHeader(request.raw.rawHeaders)) {
      return challenge(reply, new InvalidRequest('The authorization header appears more than once'));
    }
    if (request.url.includes('access_token=')) {
      return challenge(reply, new InvalidRequest('Access tokens are not accepted in the URL (RFC 6750 §2.3)'));
    }
    const header = request.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) {
      token = BEARER.exec(header)?.[1];
      if (token === undefined)
        return challenge(reply, new InvalidRequest('The Authorization header is not a Bearer token'));
    }
    if (request.method === 'POST' && request.body !== undefined) {
      const form = readForm(request);
      if (!form.ok) return challenge(reply, form.error);
      const fromBody = form.params.get('access_token');
      // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each request."
      if (fromBody !== undefined && token !== undefined) {
        return challenge(reply, new InvalidRequest('The token was sent in both the header and the body'));
      }
      token ??= fromBody;
    }
    // RFC 6750 §3.1: no credentials → 401 without an error code.
    if (token === undefined) return challenge(reply, undefined);
    const checked = await options.accessTokens.verify(token);
    if (!checked.ok) return challenge(reply, new InvalidToken('The access token is not valid'));
    if (!checked.token.scopes.includes('openid')) {
      return challenge(reply, new InsufficientScope('The access token lacks the openid scope'));
    }
    const user = await options.users()?.findActiveUser(checked.token.subject);
    if (!user) return challenge(reply, new InvalidToken('The access token does not name a user'));
    return reply
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({ ...standardClaims(user, checked.token.scopes), sub: user.id });
  };
  app.get('/oauth/userinfo', handler);
  app.post('/oauth/userinfo', handler);
}
