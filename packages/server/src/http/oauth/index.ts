/**
 * The OAuth 2.0 / OpenID Connect surface, on the public listener: its own Fastify plugin with its
 * own body parsers (form only) and error handler (RFC 6749 §5.2 JSON, never problem+json).
 */
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { ClientAuthenticator } from '../../core/oauth/client-auth.js';
import type { Introspector } from '../../core/oauth/introspection.js';
import type { AccessTokens, UserDirectory } from '../../core/oauth/ports.js';
import type { Revoker } from '../../core/oauth/revocation.js';
import type { TokenEndpoint } from '../../core/oauth/token-endpoint.js';
import type { SecretTransportPolicy } from '../../core/transport/secret-transport.js';
import { type AuthorizeRoutesOptions, registerAuthorizeRoutes } from './authorize.js';
import { oauthErrorHandler } from './errors.js';
import { installFormParsers } from './form.js';
import { registerTokenManagementRoutes } from './introspect.js';
import { registerMetadataRoutes } from './metadata.js';
import { registerTokenRoute } from './token.js';
import { registerUserinfoRoute } from './userinfo.js';

export interface OAuthSurfaceOptions {
  readonly issuer: string;
  readonly audit: AuditLog;
  readonly clientAuth: ClientAuthenticator;
  readonly tokenEndpoint: TokenEndpoint;
  readonly introspector: Introspector;
  readonly revoker: Revoker;
  readonly metadata: () => Record<string, unknown>;
  /** INTERIM until the JWT feature serves it: the JWKS document. */
  readonly jwks?: (() => unknown) | undefined;
  readonly authorize: Omit<AuthorizeRoutesOptions, 'transport'>;
  readonly accessTokens: AccessTokens;
  readonly users: () => UserDirectory | undefined;
  /** When plain HTTP may carry a client secret or a password (token, introspection, revocation, login pages). */
  readonly transport: SecretTransportPolicy;
}

export async function oauthSurface(app: FastifyInstance, options: OAuthSurfaceOptions): Promise<void> {
  app.setErrorHandler(oauthErrorHandler);
  installFormParsers(app);
  registerTokenRoute(app, options);
  registerTokenManagementRoutes(app, options);
  registerMetadataRoutes(app, options);
  registerAuthorizeRoutes(app, { ...options.authorize, transport: options.transport });
  registerUserinfoRoute(app, options);
  const { jwks } = options;
  if (jwks) {
    app.get('/.well-known/jwks.json', async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(jwks()),
    );
  }
}
