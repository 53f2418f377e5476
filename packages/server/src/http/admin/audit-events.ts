import type { FastifyInstance } from 'fastify';
import type { AuditStore } from '../../core/audit/audit.js';
import { InvalidCursorError } from '../../store/pagination.js';
import { fieldProblem } from '../problem.js';
import { listQuerySchema } from './list-query.js';

/** `GET /admin/v1/audit-events`: newest first, filtered, paginated. */
export function registerAuditRoutes(app: FastifyInstance, store: AuditStore): void {
  app.get(
    '/admin/v1/audit-events',
    {
      schema: {
        querystring: listQuerySchema({
          action: { type: 'string', maxLength: 100, pattern: '^[a-z0-9_.*]+$' },
          actor: { type: 'string', maxLength: 200 },
          target: { type: 'string', maxLength: 200 },
          outcome: { type: 'string', enum: ['success', 'failure'] },
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
        }),
      },
    },
    async (request) => {
      const query = request.query as {
        limit: number;
        cursor?: string;
        action?: string;
        actor?: string;
        target?: string;
        outcome?: 'success' | 'failure';
        since?: string;
        until?: string;
      };
      try {
        const toIso = (value: string | undefined) => (value ? new Date(value).toISOString() : undefined);
        const page = await store.list({ ...query, since: toIso(query.since), until: toIso(query.until) });
        return { data: page.events, next_cursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw fieldProblem('cursor', 'is not a cursor this API returned');
        throw error;
      }
    },
  );
}
