import type { Kysely } from 'kysely';
import { type User, UsernameTakenError, type UserStore } from '../core/users/user.js';
import { isUniqueViolation } from './errors.js';
import { decodeCursor, InvalidCursorError, pageOf } from './pagination.js';
import type { Database, UserTable } from './schema.js';

const toUser = (row: UserTable): User => ({
  id: row.id,
  username: row.username,
  password: { hash: row.password_hash, pepperId: row.password_pepper_id },
  passwordChangedAt: row.password_changed_at,
  scopes: JSON.parse(row.scopes) as string[],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  disabled: Number(row.disabled) === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  lastLoginAt: row.last_login_at,
});

const toRow = (user: User): UserTable => ({
  id: user.id,
  username: user.username,
  password_hash: user.password.hash,
  password_pepper_id: user.password.pepperId,
  password_changed_at: user.passwordChangedAt,
  scopes: JSON.stringify(user.scopes),
  metadata: JSON.stringify(user.metadata),
  disabled: user.disabled ? 1 : 0,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
  last_login_at: user.lastLoginAt,
});

/** Runs a write, turning a unique-index violation on `username` into `UsernameTakenError`. */
async function uniqueUsername<T>(username: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new UsernameTakenError(username);
    throw error;
  }
}

export function userRepository(db: Kysely<Database>): UserStore {
  const findById = async (id: string) => {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  };

  return {
    async insert(user) {
      await uniqueUsername(user.username, () => db.insertInto('users').values(toRow(user)).execute());
    },
    async insertMany(users) {
      if (users.length === 0) return;
      await db.transaction().execute(async (trx) => {
        // Batches keep each statement under SQLite's and PostgreSQL's bound-parameter limits.
        for (let i = 0; i < users.length; i += 500) {
          const batch = users.slice(i, i + 500);
          await uniqueUsername('', () => trx.insertInto('users').values(batch.map(toRow)).execute());
        }
      });
    },
    findById,
    async findByUsername(username) {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row ? toUser(row) : undefined;
    },
    async existingUsernames(usernames) {
      const found = new Set<string>();
      for (let i = 0; i < usernames.length; i += 500) {
        const rows = await db
          .selectFrom('users')
          .select('username')
          .where('username', 'in', usernames.slice(i, i + 500))
          .execute();
        for (const row of rows) found.add(row.username);
      }
      return found;
    },
    async list(query) {
      let select = db.selectFrom('users').selectAll();
      if (query.username !== undefined) select = select.where('username', '=', query.username);
      if (query.disabled !== undefined) select = select.where('disabled', '=', query.disabled ? 1 : 0);
      if (query.cursor) {
        const cursor = decodeCursor(query.cursor);
        if (!cursor) throw new InvalidCursorError();
        // Oldest first: the next page holds rows strictly after the cursor.
        select = select.where((eb) =>
          eb.or([
            eb('created_at', '>', cursor.sort),
            eb.and([eb('created_at', '=', cursor.sort), eb('id', '>', cursor.id)]),
          ]),
        );
      }
      const rows = await select
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(query.limit + 1)
        .execute();
      const page = pageOf(rows, query.limit, (row) => ({ sort: row.created_at, id: row.id }));
      return { users: page.rows.map(toUser), nextCursor: page.nextCursor };
    },
    async update(id, patch) {
      const values: Partial<UserTable> = { updated_at: patch.updatedAt };
      if (patch.username !== undefined) values.username = patch.username;
      if (patch.scopes !== undefined) values.scopes = JSON.stringify(patch.scopes);
      if (patch.metadata !== undefined) values.metadata = JSON.stringify(patch.metadata);
      if (patch.disabled !== undefined) values.disabled = patch.disabled ? 1 : 0;
      const result = await uniqueUsername(patch.username ?? '', () =>
        db.updateTable('users').set(values).where('id', '=', id).executeTakeFirst(),
      );
      return Number(result.numUpdatedRows) > 0 ? findById(id) : undefined;
    },
    async setPassword(id, password, changedAt) {
      const result = await db
        .updateTable('users')
        .set({
          password_hash: password.hash,
          password_pepper_id: password.pepperId,
          password_changed_at: changedAt,
          updated_at: changedAt,
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? findById(id) : undefined;
    },
    async replacePasswordHash(id, expected, replacement) {
      const result = await db
        .updateTable('users')
        .set({ password_hash: replacement.hash, password_pepper_id: replacement.pepperId })
        .where('id', '=', id)
        .where('password_hash', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async recordLogin(id, at) {
      await db.updateTable('users').set({ last_login_at: at }).where('id', '=', id).execute();
    },
    async delete(id) {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
