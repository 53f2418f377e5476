import type { Kysely } from 'kysely';

/** API keys: only the SHA-256 of each key is stored, with its prefix and last four characters. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('owner', 'text')
    .addColumn('prefix', 'text', (column) => column.notNull())
    .addColumn('last4', 'text', (column) => column.notNull())
    .addColumn('key_hash', 'text', (column) => column.notNull().unique())
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('rate_limit_max', 'integer')
    .addColumn('rate_limit_window_ms', 'integer')
    .addColumn('remaining_uses', 'integer')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('replaced_by', 'text')
    .addColumn('grace_until', 'text')
    .addColumn('rotated_from', 'text')
    .execute();
  await db.schema.createIndex('api_keys_created').on('api_keys').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('api_keys_owner').on('api_keys').columns(['owner', 'created_at', 'id']).execute();
  await db.schema.createIndex('api_keys_replaced_by').on('api_keys').column('replaced_by').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_keys').execute();
}
