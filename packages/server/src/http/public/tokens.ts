/**
 * `POST /auth/login`, `/auth/refresh` and `/auth/logout`: tokens for users (issue 5 item 4, 6).
 * Bodies are JSON or `application/x-www-form-urlencoded`; login also takes an `Authorization:
 * Basic` header (RFC 7617) instead of a body, never both. Token responses use the RFC 6749 §5.1
 * names and `Cache-Control: no-store` (docs/security.md #19). A failed login answers the same 401 for
 * an unknown user and a wrong password (docs/security.md #33); throttling answers 429 + Retry-After.
 * Each of the three receives a secret (a password, a refresh token), so each first applies the
 * HTTPS rule of every secret (../connection.ts `mayCarrySecret`): over plain HTTP it answers
 * 401 `https-required` before the body is parsed or anything is checked (RFC 6749 §3.2 by analogy).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import { parseBasicAuthorization } from '../../core/basic/parse-basic-credentials.js';
import type { IssuedAccessToken } from '../../core/tokens/access-tokens.js';
import { bearerJwt } from '../../core/tokens/jwt-authenticator.js';
import type { TokenResult } from '../../core/tokens/token-service.js';
import type { Tokens } from '../../core/tokens/tokens.js';
import { HTTPS_REQUIRED_DESCRIPTION, type SecretTransportPolicy } from '../../core/transport/secret-transport.js';
import { findDuplicateHeader } from '../auth-request.js';
import { mayCarrySecret } from '../connection.js';
import { fieldProblem, ProblemError } from '../problem.js';

export interface TokenRoutesOptions {
  readonly tokens: Tokens;
  readonly audit: AuditLog;
  /** When plain HTTP may carry a password or a refresh token. */
  readonly transport: SecretTransportPolicy;
}

/** RFC 7617 §2: the challenge a failed login carries (RFC 9110 §15.5.2: a 401 needs one). */
const BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"';

const loginSchema = {
  // No body at all is fine when the credentials come in a Basic header.
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 512 },
    password: { type: 'string', minLength: 1, maxLength: 4096 },
    scope: { type: 'string', maxLength: 4096 },
    audience: { type: 'string', minLength: 1, maxLength: 2048 },
  },
} as const;

const refreshSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['refresh_token'],
  properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

/**
 * Form bodies through URLSearchParams (WHATWG URL standard parser). A parameter given twice is
 * refused (RFC 6749 §3.1's rule, applied to our endpoints too), as is an empty body.
 */
function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => {
      const params = new URLSearchParams(body as string);
      const out: Record<string, string> = {};
      for (const [name, value] of params) {
        if (Object.hasOwn(out, name)) {
          done(fieldProblem(name, 'is given more than once'), undefined);
          return;
        }
        out[name] = value;
      }
      done(null, out);
    },
  );
}

function sendTokens(reply: FastifyReply, access: IssuedAccessToken, refreshToken: string): FastifyReply {
  // RFC 6749 §5.1: no-store (and Pragma for HTTP/1.0 caches).
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    scope: access.scope,
  });
}

export function registerTokenRoutes(app: FastifyInstance, options: TokenRoutesOptions): void {
  const { tokens, audit } = options;

  // onRequest runs before the body is read: a secret sent in clear text is not even parsed.
  const requireHttps =
    (method: string): onRequestHookHandler =>
    async (request) => {
      if (mayCarrySecret(request, options.transport)) return;
      audit.recordFailure({ method, reason: 'https_required', ip: request.ip });
      throw new ProblemError('https-required', HTTPS_REQUIRED_DESCRIPTION, {
        headers: { 'www-authenticate': BASIC_CHALLENGE, 'cache-control': 'no-store' },
      });
    };

  void app.register(async (scope) => {
    registerFormParser(scope);

    scope.post(
      '/auth/login',
      { schema: { body: loginSchema }, onRequest: requireHttps('login') },
      async (request, reply) => {
        const credentials = readLoginCredentials(request);
        const body = (request.body ?? {}) as { scope?: string; audience?: string };
        const result = await tokens.service.login({
          ...credentials,
          scope: body.scope,
          audience: body.audience,
          ip: request.ip,
        });
        if (result.ok) {
          audit.record({ actor: result.subject, action: 'auth.login', target: result.subject, ip: request.ip });
          request.log.info({ subject: result.subject, jti: result.access.jti }, 'login');
          return sendTokens(reply, result.access, result.refreshToken);
        }
        audit.recordFailure({
          method: 'login',
          reason: result.error === 'invalid_credentials' ? result.detail : result.error,
          ip: request.ip,
          target: result.error === 'invalid_credentials' ? result.userId : null,
        });
        return deny(result);
      },
    );

    scope.post(
      '/auth/refresh',
      { schema: { body: refreshSchema }, onRequest: requireHttps('refresh_token') },
      async (request, reply) => {
        const { refresh_token: refreshToken } = request.body as { refresh_token: string };
        const result = await tokens.service.refresh(refreshToken);
        if (result.ok) {
          request.log.info({ subject: result.subject, jti: result.access.jti }, 'refresh');
          return sendTokens(reply, result.access, result.refreshToken);
        }
        audit.recordFailure({
          method: 'refresh_token',
          reason: result.error === 'invalid_grant' ? result.reason : result.error,
          ip: request.ip,
        });
        return deny(result);
      },
    );

    scope.post(
      '/auth/logout',
      { schema: { body: refreshSchema }, onRequest: requireHttps('logout') },
      async (request, reply) => {
        const { refresh_token: refreshToken } = request.body as { refresh_token: string };
        const revoked = await tokens.service.logout(refreshToken);
        // A valid access token presented with the request is revoked too.
        const bearer = findDuplicateHeader(request.raw.rawHeaders)
          ? undefined
          : bearerJwt(request.headers.authorization, Number.MAX_SAFE_INTEGER);
        if (typeof bearer === 'string') {
          const checked = await tokens.verifier.verify(bearer);
          if (checked.ok && checked.identity.credentialId) {
            await tokens.service.revokeAccessToken(checked.identity.credentialId, checked.expiresAt);
          }
        }
        request.log.info({ refresh_tokens_revoked: revoked }, 'logout');
        // RFC 7009 §2.2 by analogy: the same answer whether or not the token was known.
        return reply.code(204).header('cache-control', 'no-store').send();
      },
    );
  });
}

function readLoginCredentials(request: FastifyRequest): { username: string; password: string } {
  const body = (request.body ?? {}) as { username?: string; password?: string };
  if (findDuplicateHeader(request.raw.rawHeaders) !== undefined) {
    throw new ProblemError('duplicate-header', 'The authorization header appears more than once');
  }
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    if (body.username !== undefined || body.password !== undefined) {
      throw new ProblemError(
        'invalid-request',
        'Send credentials either in the Authorization header or in the body, not both',
      );
    }
    const basic = parseBasicAuthorization(authorization);
    if (basic.kind !== 'credentials') {
      throw new ProblemError('invalid-credentials', 'The Authorization header is not valid Basic credentials', {
        headers: { 'www-authenticate': BASIC_CHALLENGE },
      });
    }
    return basic.credentials;
  }
  if (body.username === undefined)
    throw fieldProblem('username', 'is required (or send an Authorization: Basic header)');
  if (body.password === undefined) throw fieldProblem('password', 'is required');
  return { username: body.username, password: body.password };
}

function deny(result: Exclude<TokenResult, { ok: true }>): never {
  switch (result.error) {
    case 'invalid_credentials':
      throw new ProblemError('invalid-credentials', 'The username or password is wrong', {
        headers: { 'www-authenticate': BASIC_CHALLENGE, 'cache-control': 'no-store' },
      });
    case 'throttled':
      throw new ProblemError('rate-limited', 'Too many failed attempts; try again later', {
        headers: { 'retry-after': String(result.retryAfterSeconds) },
      });
    case 'invalid_scope':
      throw fieldProblem('scope', result.detail);
    case 'invalid_audience':
      throw fieldProblem('audience', result.detail);
    case 'invalid_grant':
      throw new ProblemError('invalid-refresh-token', 'The refresh token is invalid, expired or revoked', {
        headers: { 'cache-control': 'no-store' },
      });
  }
}
