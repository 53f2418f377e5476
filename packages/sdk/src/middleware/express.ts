/**
 * `@gatehouse/sdk/express`: middleware for Express 4 and 5. The identity goes on `req.auth` (as
 * with express-jwt); refusals are answered with the RFC 6750 status, `WWW-Authenticate` and a
 * JSON body, or — with `respond: false` — passed to `next(error)` for your error handler (the
 * error carries `status`, which Express's default handler uses).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseAuthError, InsufficientScopeError, MissingCredentialsError } from '../errors.js';
import type { Identity } from '../identity.js';
import { missingScopes } from '../scopes.js';
import type { Verifier } from '../verifier/verifier.js';
import { sendRefusal } from './node.js';
import { type AuthOptions, authenticateHeaders } from './respond.js';

export type { AuthOptions } from './respond.js';

declare global {
  namespace Express {
    interface Request {
      /** The verified caller, set by `@gatehouse/sdk/express` (undefined on an anonymous `optional` route). */
      auth?: Identity | undefined;
    }
  }
}

type Next = (error?: unknown) => void;
/** Express's handler shape, structurally (so the package needs no Express types). */
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** The verifier and options that authenticated a request, for `requireScopes`' challenges. */
const authenticatedBy = new WeakMap<IncomingMessage, { verifier: Verifier; options: AuthOptions | undefined }>();

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
  error: GatehouseAuthError,
  verifier: Verifier,
  options: AuthOptions | undefined,
): void {
  if (options?.respond === false) next(error);
  else sendRefusal(res, error, verifier, options);
  void req;
}

/**
 * Requires a valid credential: sets `req.auth` and calls `next()`, or answers 401/403/400/503.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createVerifier } from '@gatehouse/sdk';
 * import { gatehouse } from '@gatehouse/sdk/express';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * const app = express();
 * app.use('/api', gatehouse(verifier));
 * app.get('/api/orders', gatehouse(verifier, { scopes: ['orders:read'] }), (req, res) => {
 *   res.json({ user: req.auth?.subject });
 * });
 * ```
 */
export function gatehouse(verifier: Verifier, options?: AuthOptions): ExpressMiddleware {
  return (req, res, next) => {
    authenticateHeaders(verifier, req.headers, options, req.rawHeaders).then(
      (result) => {
        if (result.ok) {
          (req as { auth?: Identity | undefined }).auth = result.identity;
          authenticatedBy.set(req, { verifier, options });
          next();
        } else refuse(req, res, next, result.error, verifier, options);
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * Requires scopes of a request that `gatehouse()` already authenticated: 403
 * `insufficient_scope` (with the `scope` challenge attribute) when one is missing, 401 when the
 * request is anonymous.
 *
 * @example
 * ```ts
 * app.use(gatehouse(verifier));
 * app.delete('/orders/:id', requireScopes('orders:write'), deleteOrder);
 * ```
 */
export function requireScopes(...scopes: string[]): ExpressMiddleware {
  return (req, res, next) => {
    const context = authenticatedBy.get(req);
    const identity = (req as { auth?: Identity | undefined }).auth;
    if (context === undefined) {
      next(new Error('requireScopes() runs after gatehouse(verifier): no verifier authenticated this request'));
      return;
    }
    const options = { ...context.options, scopes };
    if (identity === undefined) {
      refuse(req, res, next, new MissingCredentialsError(), context.verifier, options);
      return;
    }
    const missing = missingScopes(identity, scopes);
    if (missing.length === 0) next();
    else refuse(req, res, next, new InsufficientScopeError(scopes, missing), context.verifier, options);
  };
}

export { GatehouseAuthError };
