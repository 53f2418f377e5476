/**
 * Discovery documents: `/.well-known/oauth-authorization-server` (RFC 8414 §3) and
 * `/.well-known/openid-configuration` (OIDC Discovery §4). When the issuer has a path, RFC 8414
 * §3.1 puts it after the well-known segment; both forms are served.
 */
import type { FastifyInstance } from 'fastify';

export function registerMetadataRoutes(
  app: FastifyInstance,
  options: { issuer: string; metadata: () => Record<string, unknown> },
): void {
  const issuerPath = new URL(options.issuer).pathname.replace(/\/+$/, '');
  const paths = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
  if (issuerPath) {
    paths.push(
      `/.well-known/oauth-authorization-server${issuerPath}`,
      `${issuerPath}/.well-known/openid-configuration`,
    );
  }
  for (const path of paths) {
    app.get(path, async (_request, reply) =>
      reply
        .header('cache-control', 'public, max-age=300')
        .type('application/json; charset=utf-8')
        .send(options.metadata()),
    );
  }
}
