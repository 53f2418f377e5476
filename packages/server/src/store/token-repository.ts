import type { Kysely } from 'kysely';
import type { RefreshTokenRecord, RefreshTokenStore } from '../core/tokens/refresh-tokens.js';
import type { Revocation, RevocationKind, RevocationStore } from '../core/tokens/revocations.js';
import type { Database, RefreshTokenTable } from './schema.js';

const toRecord = (row: RefreshTokenTable): RefreshTokenRecord => ({
  id: row.id,
  familyId: row.family_id,
  tokenHash: row.token_hash,
  subject: row.subject,
  clientId: row.client_id,
  scope: row.scope,
  audience: row.audience,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  idleExpiresAt: row.idle_expires_at,
  usedAt: row.used_at,
  revokedAt: row.revoked_at,
  accessJti: row.access_jti,
  accessExpiresAt: row.access_expires_at,
});

export function refreshTokenRepository(db: Kysely<Database>): RefreshTokenStore {
  return {
    async insert(record) {
      await db
        .insertInto('refresh_tokens')
        .values({
          id: record.id,
          family_id: record.familyId,
          token_hash: record.tokenHash,
          subject: record.subject,
          client_id: record.clientId,
          scope: record.scope,
          audience: record.audience,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
          idle_expires_at: record.idleExpiresAt,
          used_at: record.usedAt,
          revoked_at: record.revokedAt,
          access_jti: record.accessJti,
          access_expires_at: record.accessExpiresAt,
        })
        .execute();
    },
    async findByHash(tokenHash) {
      const row = await db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async markUsed(id, at) {
      // Compare-and-set: only one of two concurrent exchanges of the same token wins.
      const result = await db
        .updateTable('refresh_tokens')
        .set({ used_at: at })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeFamily(familyId, at) {
      await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: at })
        .where('family_id', '=', familyId)
        .where('revoked_at', 'is', null)
        .execute();
      const rows = await db.selectFrom('refresh_tokens').selectAll().where('family_id', '=', familyId).execute();
      return rows.map(toRecord);
    },
    async revokeWhere(filter, at) {
      if (filter.subject === undefined && filter.clientId === undefined) return [];
      let select = db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at);
      if (filter.subject !== undefined) select = select.where('subject', '=', filter.subject);
      if (filter.clientId !== undefined) select = select.where('client_id', '=', filter.clientId);
      const rows = await select.execute();
      if (rows.length === 0) return [];
      const families = [...new Set(rows.map((row) => row.family_id))];
      await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: at })
        .where('family_id', 'in', families)
        .where('revoked_at', 'is', null)
        .execute();
      return rows.map(toRecord);
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** The later of two ISO-8601 UTC times (they sort as text). */
const laterOf = (a: string, b: string): string => (a > b ? a : b);

export function revocationRepository(db: Kysely<Database>): RevocationStore {
  return {
    async listActive(now) {
      const rows = await db.selectFrom('token_revocations').selectAll().where('expires_at', '>', now).execute();
      return rows.map((row) => ({
        kind: row.kind as RevocationKind,
        value: row.value,
        revokedAt: row.revoked_at,
        expiresAt: row.expires_at,
      }));
    },
    async upsert(revocation: Revocation) {
      await db.transaction().execute(async (transaction) => {
        const existing = await transaction
          .selectFrom('token_revocations')
          .selectAll()
          .where('kind', '=', revocation.kind)
          .where('value', '=', revocation.value)
          .executeTakeFirst();
        if (!existing) {
          await transaction
            .insertInto('token_revocations')
            .values({
              kind: revocation.kind,
              value: revocation.value,
              revoked_at: revocation.revokedAt,
              expires_at: revocation.expiresAt,
            })
            .onConflict((conflict) =>
              conflict.columns(['kind', 'value']).doUpdateSet({
                revoked_at: revocation.revokedAt,
                expires_at: revocation.expiresAt,
              }),
            )
            .execute();
          return;
        }
        // A later revocation widens an earlier one; it never narrows it.
        await transaction
          .updateTable('token_revocations')
          .set({
            revoked_at: laterOf(existing.revoked_at, revocation.revokedAt),
            expires_at: laterOf(existing.expires_at, revocation.expiresAt),
          })
          .where('kind', '=', revocation.kind)
          .where('value', '=', revocation.value)
          .execute();
      });
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('token_revocations').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
