/**
 * Protection for Fetch-API handlers (`(request: Request) => Response`): Cloudflare Workers, Deno,
 * Bun, Next.js route handlers, anything that speaks `Request`/`Response`. Runtime-neutral.
 */
import type { GatehouseAuthError } from '../errors.js';
import type { Identity } from '../identity.js';
import type { Verifier } from '../verifier/verifier.js';
import { type AuthOptions, authenticateHeaders, refusal } from './respond.js';

/**
 * The refusal as a `Response`: status, `WWW-Authenticate` (RFC 6750 §3) and a JSON body.
 *
 * @example
 * ```ts
 * try {
 *   identity = await verifier.verifyRequest(request.headers);
 * } catch (error) {
 *   if (error instanceof GatehouseAuthError) return refusalResponse(error, verifier);
 *   throw error;
 * }
 * ```
 */
export function refusalResponse(error: GatehouseAuthError, verifier: Verifier, options?: AuthOptions): Response {
  const { status, headers, challenges, body } = refusal(error, verifier, options);
  const response = new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  });
  for (const challenge of challenges) response.headers.append('www-authenticate', challenge);
  return response;
}

export type RequestAuthentication =
  | { readonly ok: true; readonly identity: Identity | undefined }
  | { readonly ok: false; readonly error: GatehouseAuthError; readonly response: Response };

/**
 * Authenticates a Fetch `Request`: the identity, or the `Response` to send back.
 *
 * @example
 * ```ts
 * import { authenticateRequest, createVerifier } from '@gatehouse/sdk/fetch';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * export default {
 *   async fetch(request: Request) {
 *     const auth = await authenticateRequest(verifier, request, { scopes: ['orders:read'] });
 *     if (!auth.ok) return auth.response;
 *     return Response.json({ user: auth.identity?.subject });
 *   },
 * };
 * ```
 */
export async function authenticateRequest(
  verifier: Verifier,
  request: Request,
  options?: AuthOptions,
): Promise<RequestAuthentication> {
  const result = await authenticateHeaders(verifier, request.headers, options);
  if (result.ok) return result;
  return { ok: false, error: result.error, response: refusalResponse(result.error, verifier, options) };
}

/**
 * Wraps a Fetch handler so that it runs only for authenticated requests, with the identity as
 * its second argument.
 *
 * @example
 * ```ts
 * export default {
 *   fetch: withAuth(verifier, (request, identity) => Response.json({ user: identity.subject })),
 * };
 * ```
 */
export function withAuth<Rest extends unknown[]>(
  verifier: Verifier,
  handler: (request: Request, identity: Identity, ...rest: Rest) => Response | Promise<Response>,
  options?: Omit<AuthOptions, 'optional' | 'respond'>,
): (request: Request, ...rest: Rest) => Promise<Response> {
  return async (request, ...rest) => {
    const auth = await authenticateRequest(verifier, request, options);
    if (!auth.ok) return auth.response;
    return handler(request, auth.identity as Identity, ...rest);
  };
}
