/**
 * `@gatehouse/sdk/hono`: Hono middleware, for Node (`@hono/node-server`) and for runtimes with
 * only WebCrypto (pass a verifier from `@gatehouse/sdk/fetch`). The identity is the `auth`
 * variable (`c.get('auth')`); refusals are answered with the RFC 6750 status,
 * `WWW-Authenticate` and a JSON body, or thrown to `app.onError` with `respond: false`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { InsufficientScopeError, MissingCredentialsError } from '../errors.js';
import type { Identity } from '../identity.js';
import { missingScopes } from '../scopes.js';
import type { Verifier } from '../verifier/verifier.js';
import { refusalResponse } from './fetch.js';
import { type AuthOptions, authenticateHeaders } from './respond.js';

export type { AuthOptions } from './respond.js';

/** The Hono environment the middleware provides: `c.get('auth')`. */
export type GatehouseEnv = { Variables: { auth: Identity | undefined } };

const contexts = new WeakMap<Request, { verifier: Verifier; options: AuthOptions | undefined }>();

/** The Node request's raw header list, when Hono runs on `@hono/node-server` (docs/security.md #28). */
function rawHeaders(c: Context): readonly string[] | undefined {
  const incoming = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming;
  return Array.isArray(incoming?.rawHeaders) ? (incoming.rawHeaders as string[]) : undefined;
}

function answer(error: Parameters<typeof refusalResponse>[0], verifier: Verifier, options?: AuthOptions): Response {
  if (options?.respond === false) throw error;
  return refusalResponse(error, verifier, options);
}

/**
 * Requires a valid credential and sets `c.get('auth')`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createVerifier } from '@gatehouse/sdk';
 * import { gatehouse, type GatehouseEnv } from '@gatehouse/sdk/hono';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * const app = new Hono<GatehouseEnv>();
 * app.use('/api/*', gatehouse(verifier));
 * app.get('/api/orders', (c) => c.json({ user: c.get('auth')?.subject }));
 * ```
 */
export function gatehouse(verifier: Verifier, options?: AuthOptions): MiddlewareHandler<GatehouseEnv> {
  return async (c, next) => {
    const result = await authenticateHeaders(verifier, c.req.raw.headers, options, rawHeaders(c));
    if (!result.ok) return answer(result.error, verifier, options);
    c.set('auth', result.identity);
    contexts.set(c.req.raw, { verifier, options });
    await next();
    return undefined;
  };
}

/**
 * Requires scopes of a request `gatehouse()` authenticated (403 `insufficient_scope`).
 *
 * @example
 * ```ts
 * app.delete('/api/orders/:id', requireScopes('orders:write'), (c) => c.body(null, 204));
 * ```
 */
export function requireScopes(...scopes: string[]): MiddlewareHandler<GatehouseEnv> {
  return async (c, next) => {
    const context = contexts.get(c.req.raw);
    if (context === undefined) throw new Error('requireScopes() runs after gatehouse(verifier)');
    const options = { ...context.options, scopes };
    const identity = c.get('auth');
    if (identity === undefined) return answer(new MissingCredentialsError(), context.verifier, options);
    const missing = missingScopes(identity, scopes);
    if (missing.length > 0) return answer(new InsufficientScopeError(scopes, missing), context.verifier, options);
    await next();
    return undefined;
  };
}
