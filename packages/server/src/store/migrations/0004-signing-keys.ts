import { type Kysely, sql } from 'kysely';

/**
 * Signing keys (docs/jwt.md): one row per key, its private JWK sealed under the master key. At
 * most one key is `active` and at most one `next`: partial unique indexes make a second one a
 * constraint violation, whatever races between instances.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('alg', 'text', (column) => column.notNull())
    .addColumn('state', 'text', (column) => column.notNull())
    .addColumn('public_jwk', 'text', (column) => column.notNull())
    .addColumn('private_jwk_sealed', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('activates_at', 'text')
    .addColumn('activated_at', 'text')
    .addColumn('retired_at', 'text')
    .addColumn('delete_after', 'text')
    .execute();
  for (const state of ['active', 'next']) {
    await db.schema
      .createIndex(`signing_keys_one_${state}`)
      .on('signing_keys')
      .column('state')
      .unique()
      .where(sql.ref('state'), '=', state)
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('signing_keys').execute();
}
