import { type Kysely, sql, type Transaction } from 'kysely';
import type {
  AsymmetricAlgorithm,
  SigningKeyRecord,
  SigningKeyState,
  SigningKeyStore,
  SigningKeyTransaction,
} from '../core/tokens/signing-keys.js';
import type { Database, SigningKeyTable } from './schema.js';

const LOCK_KEY = 'signing_keys.rotation_lock';

const toRecord = (row: SigningKeyTable): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg as AsymmetricAlgorithm,
  state: row.state as SigningKeyState,
  publicJwk: JSON.parse(row.public_jwk),
  privateJwkSealed: row.private_jwk_sealed,
  createdAt: row.created_at,
  activatesAt: row.activates_at,
  activatedAt: row.activated_at,
  retiredAt: row.retired_at,
  deleteAfter: row.delete_after,
});

function operations(db: Kysely<Database> | Transaction<Database>): SigningKeyTransaction {
  return {
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
      return rows.map(toRecord);
    },
    async insert(record) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: record.kid,
          alg: record.alg,
          state: record.state,
          public_jwk: JSON.stringify(record.publicJwk),
          private_jwk_sealed: record.privateJwkSealed,
          created_at: record.createdAt,
          activates_at: record.activatesAt,
          activated_at: record.activatedAt,
          retired_at: record.retiredAt,
          delete_after: record.deleteAfter,
        })
        .execute();
    },
    async update(kid, changes) {
      const set: Partial<SigningKeyTable> = {};
      if (changes.state !== undefined) set.state = changes.state;
      if (changes.activatesAt !== undefined) set.activates_at = changes.activatesAt;
      if (changes.activatedAt !== undefined) set.activated_at = changes.activatedAt;
      if (changes.retiredAt !== undefined) set.retired_at = changes.retiredAt;
      if (changes.deleteAfter !== undefined) set.delete_after = changes.deleteAfter;
      await db.updateTable('signing_keys').set(set).where('kid', '=', kid).execute();
    },
    async delete(kid) {
      await db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
    },
  };
}

/**
 * Signing keys in the store. The rotation lock is a row of `gatehouse_meta` written first in the
 * transaction: PostgreSQL holds its row lock until commit (a second instance waits, then reads
 * what the first committed: READ COMMITTED takes a new snapshot per statement), and SQLite takes
 * its write lock with the first write. The partial unique indexes of migration 0004 back this up.
 */
export function signingKeyRepository(db: Kysely<Database>): SigningKeyStore {
  return {
    list: () => operations(db).list(),
    withLock(work) {
      return db.transaction().execute(async (transaction) => {
        await transaction
          .insertInto('gatehouse_meta')
          .values({ key: LOCK_KEY, value: new Date().toISOString() })
          .onConflict((conflict) => conflict.column('key').doUpdateSet({ value: sql`excluded.value` }))
          .execute();
        return work(operations(transaction));
      });
    },
  };
}
