import type { Kysely } from 'kysely';
import type { AuditEvent, AuditStore } from '../core/audit/audit.js';
import { decodeCursor, InvalidCursorError, pageOf } from './pagination.js';
import type { AuditEventTable, Database } from './schema.js';

const toEvent = (row: AuditEventTable): AuditEvent => ({
  id: row.id,
  at: row.at,
  actor: row.actor,
  action: row.action,
  target: row.target,
  outcome: row.outcome === 'failure' ? 'failure' : 'success',
  ip: row.ip,
  details: JSON.parse(row.details) as Record<string, unknown>,
});

export function auditRepository(db: Kysely<Database>): AuditStore {
  return {
    async append(events) {
      if (events.length === 0) return;
      await db
        .insertInto('audit_events')
        .values(
          events.map((event) => ({
            id: event.id,
            at: event.at,
            actor: event.actor,
            action: event.action,
            target: event.target,
            outcome: event.outcome,
            ip: event.ip,
            details: JSON.stringify(event.details),
          })),
        )
        .execute();
    },
    async list(query) {
      let select = db.selectFrom('audit_events').selectAll();
      // A trailing `.*` matches a family of actions: `apikey.*`.
      if (query.action?.endsWith('.*')) select = select.where('action', 'like', `${query.action.slice(0, -1)}%`);
      else if (query.action) select = select.where('action', '=', query.action);
      if (query.actor) select = select.where('actor', '=', query.actor);
      if (query.target) select = select.where('target', '=', query.target);
      if (query.outcome) select = select.where('outcome', '=', query.outcome);
      if (query.since) select = select.where('at', '>=', query.since);
      if (query.until) select = select.where('at', '<', query.until);
      if (query.cursor) {
        const cursor = decodeCursor(query.cursor);
        if (!cursor) throw new InvalidCursorError();
        // Newest first: the next page holds rows strictly before the cursor.
        select = select.where((eb) =>
          eb.or([eb('at', '<', cursor.sort), eb.and([eb('at', '=', cursor.sort), eb('id', '<', cursor.id)])]),
        );
      }
      const rows = await select
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit + 1)
        .execute();
      const page = pageOf(rows, query.limit, (row) => ({ sort: row.at, id: row.id }));
      return { events: page.rows.map(toEvent), nextCursor: page.nextCursor };
    },
  };
}
