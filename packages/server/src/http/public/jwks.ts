/**
 * `GET /.well-known/jwks.json`: the public keys verifiers trust (RFC 7517 §5), next, active and
 * retired, public members only (docs/security.md #25: never `d` or symmetric material; the HS256 secret
 * is never listed). `Cache-Control: max-age` is `keys.jwks_max_age`, shorter than
 * `keys.publish_ahead`, so a verifier that caches for the advertised time always knows a key before
 * it signs (docs/security.md #37). Served from memory: the store is not touched per request.
 */
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../../core/tokens/key-ring.js';

export function registerJwksRoute(app: FastifyInstance, options: { keyRing: KeyRing; maxAgeMs: number }): void {
  const cacheControl = `public, max-age=${Math.floor(options.maxAgeMs / 1000)}`;
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const jwks = await options.keyRing.jwks();
    return reply
      .header('cache-control', cacheControl)
      .header('access-control-allow-origin', '*')
      .type('application/jwk-set+json')
      .send(jwks.body);
  });
}
