/**
 * `GET /metrics` on the admin listener: Prometheus text exposition.
 *
 * Not behind the admin key: a scraper should not hold a key that can mint credentials. The admin
 * listener is private by default (127.0.0.1); where it is reachable more widely, set
 * `metrics.token` and give Prometheus that token instead (compared in constant time). The
 * metrics carry route names and counts, never a credential, subject or client address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { GatehouseMetrics } from '../../observability/metrics.js';
import { findDuplicateHeader } from '../auth-request.js';
import { ProblemError } from '../problem.js';

export const METRICS_PATH = '/metrics';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function registerMetricsRoute(
  app: FastifyInstance,
  options: { metrics: GatehouseMetrics; token: string | undefined },
): void {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  app.get(METRICS_PATH, async (request, reply) => {
    if (expected) {
      const duplicate = findDuplicateHeader(request.raw.rawHeaders);
      if (duplicate) throw new ProblemError('duplicate-header', `The ${duplicate} header appears more than once`);
      const given = request.headers.authorization;
      // Hashing both sides first makes the comparison constant-time whatever the lengths.
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        throw new ProblemError(
          'unauthorized',
          'The metrics endpoint requires "Authorization: Bearer <metrics.token>"',
          {
            headers: { 'www-authenticate': 'Bearer realm="gatehouse-metrics"' },
          },
        );
      }
    }
    const body = await options.metrics.render();
    return reply.header('cache-control', 'no-store').type(options.metrics.contentType).send(body);
  });
}
