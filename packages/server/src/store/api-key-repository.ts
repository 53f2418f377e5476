import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type {
  ApiKey,
  ApiKeyChanges,
  ApiKeyState,
  ApiKeyStore,
  ChangeRefusal,
  RotateResult,
} from '../core/apikeys/model.js';
import { decodeCursor, InvalidCursorError, pageOf } from './pagination.js';
import type { ApiKeyTable, Database } from './schema.js';
import { isUniqueViolation } from './unique-violation.js';

const toApiKey = (row: ApiKeyTable): ApiKey => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  prefix: row.prefix,
  last4: row.last4,
  keyHash: row.key_hash,
  scopes: JSON.parse(row.scopes) as string[],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  rateLimit:
    row.rate_limit_max === null || row.rate_limit_window_ms === null
      ? null
      : { limit: Number(row.rate_limit_max), windowMs: Number(row.rate_limit_window_ms) },
  remainingUses: row.remaining_uses === null ? null : Number(row.remaining_uses),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
  replacedBy: row.replaced_by,
  graceUntil: row.grace_until,
  rotatedFrom: row.rotated_from,
  legacy: Number(row.legacy) === 1,
});

const toRow = (key: ApiKey): ApiKeyTable => ({
  id: key.id,
  name: key.name,
  owner: key.owner,
  prefix: key.prefix,
  last4: key.last4,
  key_hash: key.keyHash,
  scopes: JSON.stringify(key.scopes),
  metadata: JSON.stringify(key.metadata),
  rate_limit_max: key.rateLimit?.limit ?? null,
  rate_limit_window_ms: key.rateLimit?.windowMs ?? null,
  remaining_uses: key.remainingUses,
  created_at: key.createdAt,
  updated_at: key.updatedAt,
  expires_at: key.expiresAt,
  last_used_at: key.lastUsedAt,
  revoked_at: key.revokedAt,
  replaced_by: key.replacedBy,
  grace_until: key.graceUntil,
  rotated_from: key.rotatedFrom,
  legacy: key.legacy ? 1 : 0,
});

type Where = ExpressionBuilder<Database, 'api_keys'>;

/** The SQL twin of `stateOf` (core/apikeys/model.ts), with the same precedence. */
function stateCondition(state: ApiKeyState, now: string) {
  return (eb: Where) => {
    const revoked = eb('revoked_at', 'is not', null);
    const rotated = eb('replaced_by', 'is not', null);
    const expired = eb.and([eb('expires_at', 'is not', null), eb('expires_at', '<=', now)]);
    const exhausted = eb.and([eb('remaining_uses', 'is not', null), eb('remaining_uses', '<=', 0)]);
    const before = [eb.not(revoked), eb.not(rotated), eb.not(expired), eb.not(exhausted)];
    switch (state) {
      case 'revoked':
        return revoked;
      case 'rotated':
        return eb.and([...before.slice(0, 1), rotated]);
      case 'expired':
        return eb.and([...before.slice(0, 2), expired]);
      case 'exhausted':
        return eb.and([...before.slice(0, 3), exhausted]);
      case 'active':
        return eb.and(before);
    }
  };
}

/** Why a key that an UPDATE … WHERE did not touch could not be changed. */
async function refusalFor(db: Kysely<Database> | Transaction<Database>, id: string): Promise<ChangeRefusal> {
  const row = await db
    .selectFrom('api_keys')
    .select(['revoked_at', 'replaced_by'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return 'not_found';
  return row.revoked_at !== null ? 'revoked' : 'rotated';
}

/** A rotation that found the old key final; thrown to roll the transaction back. */
class RotationRefused extends Error {
  constructor(readonly reason: ChangeRefusal) {
    super(reason);
  }
}

export function apiKeyRepository(db: Kysely<Database>): ApiKeyStore {
  const findById = async (id: string) => {
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toApiKey(row) : undefined;
  };
  const changeable = (eb: Where) => eb.and([eb('revoked_at', 'is', null), eb('replaced_by', 'is', null)]);

  return {
    async insert(key) {
      await db.insertInto('api_keys').values(toRow(key)).execute();
    },

    async insertAll(keys) {
      if (keys.length === 0) return { ok: true };
      const hashes = keys.map((key) => key.keyHash);
      try {
        return await db.transaction().execute(async (trx) => {
          const clashes: string[] = [];
          // In chunks: a statement's parameters are bounded (SQLite 32766, PostgreSQL 65535).
          for (let i = 0; i < hashes.length; i += 500) {
            const found = await trx
              .selectFrom('api_keys')
              .select('key_hash')
              .where('key_hash', 'in', hashes.slice(i, i + 500))
              .execute();
            clashes.push(...found.map((row) => row.key_hash));
          }
          if (clashes.length > 0) return { ok: false, clashes } as const;
          // 19 columns a row: 100 rows a statement stays under every dialect's parameter limit.
          for (let i = 0; i < keys.length; i += 100) {
            await trx
              .insertInto('api_keys')
              .values(keys.slice(i, i + 100).map(toRow))
              .execute();
          }
          return { ok: true } as const;
        });
      } catch (error) {
        // A concurrent import (or key) took one of the hashes after the check: all rolled back.
        if (isUniqueViolation(error)) {
          const found = await db
            .selectFrom('api_keys')
            .select('key_hash')
            .where('key_hash', 'in', hashes.slice(0, 500))
            .execute();
          return { ok: false, clashes: found.map((row) => row.key_hash) };
        }
        throw error;
      }
    },

    async hasLiveLegacyKeys(now) {
      const row = await db
        .selectFrom('api_keys')
        .select('id')
        .where('legacy', '=', 1)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('grace_until', 'is', null), eb('grace_until', '>', now)]))
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async findByHash(keyHash) {
      const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
      return row ? toApiKey(row) : undefined;
    },

    findById,

    async list(query) {
      let select = db.selectFrom('api_keys').selectAll();
      if (query.owner !== undefined) select = select.where('owner', '=', query.owner);
      if (query.state !== undefined) select = select.where(stateCondition(query.state, query.now));
      if (query.cursor) {
        const cursor = decodeCursor(query.cursor);
        if (!cursor) throw new InvalidCursorError();
        // Newest first: the next page holds rows strictly before the cursor.
        select = select.where((eb) =>
          eb.or([
            eb('created_at', '<', cursor.sort),
            eb.and([eb('created_at', '=', cursor.sort), eb('id', '<', cursor.id)]),
          ]),
        );
      }
      const rows = await select
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit + 1)
        .execute();
      const page = pageOf(rows, query.limit, (row) => ({ sort: row.created_at, id: row.id }));
      return { keys: page.rows.map(toApiKey), nextCursor: page.nextCursor };
    },

    async update(id, changes: ApiKeyChanges, now) {
      const set: Partial<ApiKeyTable> = { updated_at: now };
      if (changes.name !== undefined) set.name = changes.name;
      if (changes.scopes !== undefined) set.scopes = JSON.stringify(changes.scopes);
      if (changes.metadata !== undefined) set.metadata = JSON.stringify(changes.metadata);
      if (changes.rateLimit !== undefined) {
        set.rate_limit_max = changes.rateLimit?.limit ?? null;
        set.rate_limit_window_ms = changes.rateLimit?.windowMs ?? null;
      }
      if (changes.remainingUses !== undefined) set.remaining_uses = changes.remainingUses;
      if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
      // Revoked and rotated keys are final: the condition makes that atomic.
      const result = await db
        .updateTable('api_keys')
        .set(set)
        .where('id', '=', id)
        .where(changeable)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return { ok: false, reason: await refusalFor(db, id) };
      const key = await findById(id);
      return key ? { ok: true, key } : { ok: false, reason: 'not_found' };
    },

    async revoke(id, now) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: now, updated_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const key = await findById(id);
      return key ? { key, changed: Number(result.numUpdatedRows) > 0 } : undefined;
    },

    async rotate(oldId, makeReplacement, graceUntil, now): Promise<RotateResult> {
      try {
        return await db.transaction().execute(async (trx) => {
          // Claim the old key first: the conditional UPDATE takes its row lock (PostgreSQL) or the
          // write lock (SQLite), so concurrent rotations of one key serialise and one of them wins.
          const claimed = await trx
            .updateTable('api_keys')
            .set({ updated_at: now })
            .where('id', '=', oldId)
            .where(changeable)
            .executeTakeFirst();
          if (Number(claimed.numUpdatedRows) === 0) throw new RotationRefused(await refusalFor(trx, oldId));
          const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', oldId).executeTakeFirstOrThrow();
          const replacement = makeReplacement(toApiKey(row));
          await trx.insertInto('api_keys').values(toRow(replacement)).execute();
          const inGrace = await trx.selectFrom('api_keys').select('id').where('replaced_by', '=', oldId).execute();
          await trx
            .updateTable('api_keys')
            .set({ replaced_by: replacement.id })
            .where('replaced_by', '=', oldId)
            .execute();
          await trx
            .updateTable('api_keys')
            .set({ replaced_by: replacement.id, grace_until: graceUntil })
            .where('id', '=', oldId)
            .execute();
          const old = toApiKey({ ...row, replaced_by: replacement.id, grace_until: graceUntil });
          return { ok: true, old, replacement, affected: [oldId, ...inGrace.map((item) => item.id)] } as const;
        });
      } catch (error) {
        if (error instanceof RotationRefused) return { ok: false, reason: error.reason };
        throw error;
      }
    },

    async consumeUse(id) {
      const row = await db
        .updateTable('api_keys')
        .set((eb) => ({ remaining_uses: eb('remaining_uses', '-', 1) }))
        .where('id', '=', id)
        .where('remaining_uses', '>', 0)
        .returning('remaining_uses')
        .executeTakeFirst();
      return row?.remaining_uses === null || row === undefined ? undefined : Number(row.remaining_uses);
    },

    async recordLastUsed(times) {
      if (times.size === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const [id, at] of times) {
          await trx
            .updateTable('api_keys')
            .set({ last_used_at: at })
            .where('id', '=', id)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
            .execute();
        }
      });
    },
  };
}
