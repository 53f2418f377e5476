import type { Kysely } from 'kysely';

/**
 * Legacy API keys: keys another system issued, imported by hash (`gatehouse apikey import`).
 * Existing keys are Gatehouse's own (0). The partial index serves the verifier's one question,
 * "is any legacy key still live?", without a scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('legacy', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('api_keys_legacy').on('api_keys').column('legacy').where('legacy', '=', 1).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('api_keys_legacy').execute();
  await db.schema.alterTable('api_keys').dropColumn('legacy').execute();
}
