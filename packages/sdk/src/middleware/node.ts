/**
 * `@gatehouse/sdk/node`: protection for plain `node:http` servers (and anything connect-style).
 * The identity goes on `req.auth`; refusals are answered here with the RFC 6750 status,
 * challenge and JSON body unless `respond: false`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatehouseAuthError } from '../errors.js';
import type { Identity } from '../identity.js';
import type { Verifier } from '../verifier/verifier.js';
import { type AuthOptions, authenticateHeaders, refusal } from './respond.js';

export type { AuthOptions } from './respond.js';

/** A request once authenticated: `auth` is the identity (undefined for an anonymous `optional` request). */
export type AuthenticatedRequest<R extends IncomingMessage = IncomingMessage> = R & { auth?: Identity | undefined };

/**
 * Writes a refusal (status, `WWW-Authenticate`, JSON body) on a Node response.
 *
 * @example
 * ```ts
 * verifier.verifyRequest(req.headers).catch((error) => {
 *   if (error instanceof GatehouseAuthError) sendRefusal(res, error, verifier, { realm: 'orders' });
 * });
 * ```
 */
export function sendRefusal(
  res: ServerResponse,
  error: GatehouseAuthError,
  verifier: Verifier,
  options?: AuthOptions,
): void {
  const answer = refusal(error, verifier, options);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.challenges.length > 0) res.setHeader('www-authenticate', [...answer.challenges]);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Authenticates a `node:http` request: resolves to the identity (also set on `req.auth`), or to
 * `undefined` after answering the refusal itself (401/403/400/429/503 with `WWW-Authenticate`).
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createVerifier } from '@gatehouse/sdk';
 * import { authenticate } from '@gatehouse/sdk/node';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * http.createServer(async (req, res) => {
 *   const identity = await authenticate(verifier, req, res, { scopes: ['orders:read'] });
 *   if (!identity) return; // already answered
 *   res.end(`hello ${identity.subject}`);
 * }).listen(3000);
 * ```
 */
export async function authenticate(
  verifier: Verifier,
  req: IncomingMessage,
  res: ServerResponse,
  options?: AuthOptions,
): Promise<Identity | undefined> {
  const result = await authenticateHeaders(verifier, req.headers, options, req.rawHeaders);
  if (result.ok) {
    (req as AuthenticatedRequest).auth = result.identity;
    return result.identity;
  }
  sendRefusal(res, result.error, verifier, options);
  return undefined;
}

/**
 * Wraps a `node:http` handler so that it runs only for authenticated requests, with `req.auth`
 * set. Errors thrown by the handler are answered with a bare 500 (and passed to `onError`).
 *
 * @example
 * ```ts
 * http.createServer(withAuth(verifier, (req, res) => res.end(req.auth?.subject))).listen(3000);
 * ```
 */
export function withAuth<R extends IncomingMessage = IncomingMessage>(
  verifier: Verifier,
  handler: (req: AuthenticatedRequest<R>, res: ServerResponse) => unknown,
  options?: AuthOptions & { readonly onError?: (error: unknown) => void },
): (req: R, res: ServerResponse) => void {
  return (req, res) => {
    authenticate(verifier, req, res, options)
      .then((identity) => {
        if (identity === undefined && !options?.optional) return;
        if (res.writableEnded) return;
        return handler(req as AuthenticatedRequest<R>, res);
      })
      .catch((error: unknown) => {
        options?.onError?.(error);
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy();
      });
  };
}

/**
 * Connect-style middleware `(req, res, next)`: sets `req.auth` and calls `next()`, or answers the
 * refusal (with `respond: false`, calls `next(error)` instead, the error carrying `status`).
 *
 * @example
 * ```ts
 * import connect from 'connect';
 * connect().use(gatehouse(verifier)).use((req, res) => res.end(req.auth.subject));
 * ```
 */
export function gatehouse(
  verifier: Verifier,
  options?: AuthOptions,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    authenticateHeaders(verifier, req.headers, options, req.rawHeaders).then(
      (result) => {
        if (result.ok) {
          (req as AuthenticatedRequest).auth = result.identity;
          next();
        } else if (options?.respond === false) next(result.error);
        else sendRefusal(res, result.error, verifier, options);
      },
      (error: unknown) => next(error),
    );
  };
}
