/**
 * Liveness and readiness (docs/security.md #38): `/healthz` answers while the process runs and touches
 * nothing; `/readyz` checks that the store answers and that no migration is pending, and answers
 * 503 problem+json otherwise, so a load balancer stops sending traffic until the store is back.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/database.js';
import { pendingMigrations } from '../store/migrate.js';
import { sendProblem } from './problem.js';

export interface HealthOptions {
  readonly store: Store;
  /** Set while the server drains on shutdown: readiness fails so balancers move away first. */
  readonly isShuttingDown: () => boolean;
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.isShuttingDown()) return sendProblem(reply, 'shutting-down', 'The server is shutting down');
    try {
      await options.store.ping();
      const pending = await pendingMigrations(options.store);
      if (pending.length > 0) {
        return sendProblem(reply, 'store-unavailable', `Migrations pending: ${pending.join(', ')}`);
      }
    } catch (error) {
      request.log.warn({ err: { message: (error as Error).message } }, 'readiness check failed');
      return sendProblem(reply, 'store-unavailable', 'The store is unreachable', { headers: { 'retry-after': '5' } });
    }
    return reply.send({ status: 'ready', store: options.store.kind });
  });
}
