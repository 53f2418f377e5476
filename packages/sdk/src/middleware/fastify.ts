/**
 * `@gatehouse/sdk/fastify`: a Fastify 5 plugin and a `preHandler`. The identity goes on
 * `request.auth`; refusals are answered with the RFC 6750 status, `WWW-Authenticate` and a JSON
 * body, or thrown (with `status`) to your error handler when `respond: false`.
 *
 * The plugin protects every route of the context it is registered in (it is not encapsulated,
 * like `fastify-plugin`): register it inside a child plugin to protect only that plugin's routes.
 * It checks credentials `onRequest`, before the body is read. A route opts out with
 * `config: { gatehouse: false }` or asks for more with `config: { gatehouse: { scopes: [...] } }`.
 */
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import type { GatehouseAuthError } from '../errors.js';
import type { Identity } from '../identity.js';
import type { Verifier } from '../verifier/verifier.js';
import { type AuthOptions, authenticateHeaders, refusal } from './respond.js';

export type { AuthOptions } from './respond.js';

/** Per-route settings, under `config.gatehouse`. */
export type GatehouseRouteConfig = false | Pick<AuthOptions, 'scopes' | 'optional'>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, set by `@gatehouse/sdk/fastify`. */
    auth: Identity | undefined;
  }
  interface FastifyContextConfig {
    /** `false` leaves the route public; `{ scopes }` requires more of it. */
    gatehouse?: GatehouseRouteConfig;
  }
}

export interface GatehousePluginOptions extends AuthOptions {
  readonly verifier: Verifier;
  /** The hook that checks credentials: `onRequest` (default, before the body is parsed) or `preHandler`. */
  readonly hook?: 'onRequest' | 'preHandler';
}

function sendRefusal(reply: FastifyReply, error: GatehouseAuthError, verifier: Verifier, options?: AuthOptions) {
  const answer = refusal(error, verifier, options);
  reply.code(answer.status).headers(answer.headers);
  if (answer.challenges.length > 0) reply.header('www-authenticate', [...answer.challenges]);
  return reply.send(answer.body);
}

async function check(
  request: FastifyRequest,
  reply: FastifyReply,
  verifier: Verifier,
  options: AuthOptions | undefined,
): Promise<void> {
  const result = await authenticateHeaders(verifier, request.headers, options, request.raw.rawHeaders);
  if (result.ok) {
    request.auth = result.identity;
    return;
  }
  if (options?.respond === false) throw result.error;
  await sendRefusal(reply, result.error, verifier, options);
}

/**
 * A `preHandler` (or `onRequest`) hook for one route: requires a valid credential and sets
 * `request.auth`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createVerifier } from '@gatehouse/sdk';
 * import { gatehousePreHandler } from '@gatehouse/sdk/fastify';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders' });
 * const app = Fastify();
 * app.get('/orders', { preHandler: gatehousePreHandler(verifier, { scopes: ['orders:read'] }) },
 *   async (request) => ({ user: request.auth?.subject }));
 * ```
 */
export function gatehousePreHandler(
  verifier: Verifier,
  options?: AuthOptions,
): preHandlerHookHandler & onRequestHookHandler {
  return async function gatehouseHook(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    await check(request, reply, verifier, options);
  } as preHandlerHookHandler & onRequestHookHandler;
}

const plugin: FastifyPluginCallback<GatehousePluginOptions> = (instance, pluginOptions, done) => {
  const { verifier, hook = 'onRequest', ...options } = pluginOptions;
  if (typeof verifier?.verifyRequest !== 'function') {
    done(new TypeError('@gatehouse/sdk/fastify: pass { verifier: createVerifier(...) }'));
    return;
  }
  if (!instance.hasRequestDecorator('auth')) instance.decorateRequest('auth', undefined);
  instance.addHook(hook, async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.config?.gatehouse;
    if (route === false) return;
    await check(request, reply, verifier, route ? { ...options, ...route } : options);
  });
  done();
};

// Like fastify-plugin: the hook and decorator apply to the context that registers the plugin.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@gatehouse/sdk',
  [Symbol.for('plugin-meta')]: { name: '@gatehouse/sdk', fastify: '5.x' },
});

/**
 * The Fastify plugin: every route of the registering context requires a valid credential, and
 * `request.auth` holds the identity.
 *
 * @example
 * ```ts
 * await app.register(gatehouse, { verifier, scopes: ['orders:read'] });
 * app.get('/health', { config: { gatehouse: false } }, async () => 'ok');
 * app.get('/orders', async (request) => ({ user: request.auth?.subject }));
 * ```
 */
export const gatehouse = plugin;
