import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Small named values about the store itself (the master key check value, …). */
export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  /** Sets the value unless one exists; answers the value now stored (ours or a racing instance's). */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export function metaRepository(db: Kysely<Database>): MetaStore {
  const get = async (key: string) =>
    (await db.selectFrom('gatehouse_meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
  return {
    get,
    async setIfAbsent(key, value) {
      await db
        .insertInto('gatehouse_meta')
        .values({ key, value })
        .onConflict((conflict) => conflict.column('key').doNothing())
        .execute();
      return (await get(key)) ?? value;
    },
  };
}
