import type { Kysely } from 'kysely';
import type { AdminCredential, AdminCredentialStore } from '../core/admin/admin-keys.js';
import type { AdminCredentialTable, Database } from './schema.js';

const toCredential = (row: AdminCredentialTable): AdminCredential => ({
  id: row.id,
  name: row.name,
  keyHash: row.key_hash,
  keyHint: row.key_hint,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

const toRow = (credential: AdminCredential): AdminCredentialTable => ({
  id: credential.id,
  name: credential.name,
  key_hash: credential.keyHash,
  key_hint: credential.keyHint,
  created_at: credential.createdAt,
  last_used_at: credential.lastUsedAt,
  revoked_at: credential.revokedAt,
});

export function adminCredentialRepository(db: Kysely<Database>): AdminCredentialStore {
  return {
    async findByHash(keyHash) {
      const row = await db
        .selectFrom('admin_credentials')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .executeTakeFirst();
      return row ? toCredential(row) : undefined;
    },
    async findById(id) {
      const row = await db.selectFrom('admin_credentials').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toCredential(row) : undefined;
    },
    async insertIfAbsent(credential) {
      const result = await db
        .insertInto('admin_credentials')
        .values(toRow(credential))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async upsert(credential) {
      const row = toRow(credential);
      await db
        .insertInto('admin_credentials')
        .values(row)
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet({ name: row.name, key_hash: row.key_hash, key_hint: row.key_hint, revoked_at: null }),
        )
        .execute();
    },
  };
}
