/**
 * Opens the store named by `database.url`: embedded SQLite (better-sqlite3, WAL) or PostgreSQL
 * (pg pool). Both speak through one Kysely<Database>, so every repository and migration is
 * written once.
 */
import { chmodSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  /** The URL with any password masked. */
  readonly description: string;
  /** Resolves when a trivial query succeeds; rejects when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised for a file that is not ours to touch: never overwritten, never migrated. */
export class StoreRefusedError extends Error {
  readonly code = 'ERR_STORE_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'StoreRefusedError';
  }
}

export interface OpenStoreOptions {
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  /** Called for errors of idle PostgreSQL connections (which would otherwise crash the process). */
  readonly onBackgroundError?: (error: Error) => void;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');

/** Resolves `sqlite:<path>` to a file path (`:memory:` stays as is). */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return rest === ':memory:' ? rest : path.resolve(rest);
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  return url.startsWith('sqlite:') ? openSqlite(url) : openPostgres(url, options);
}

async function openSqlite(url: string): Promise<Store> {
  const file = sqlitePath(url);
  if (file !== ':memory:') {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    refuseForeignFile(file);
  }
  const created = file !== ':memory:' && !existsSync(file);
  let connection: SQLite.Database;
  try {
    connection = new SQLite(file);
    // The store holds hashes and sealed keys: only its owner may read it (WAL files inherit this).
    if (created) chmodSync(file, 0o600);
    connection.pragma('busy_timeout = 5000');
    // Look before writing anything: switching to WAL rewrites the header of a foreign database.
    refuseForeignSchema(connection, file);
    connection.pragma('journal_mode = WAL');
    connection.pragma('synchronous = NORMAL');
    connection.pragma('foreign_keys = ON');
  } catch (error) {
    if (error instanceof StoreRefusedError) throw error;
    const code = (error as { code?: string }).code ?? 'error';
    throw new StoreRefusedError(
      `${file} cannot be used as a Gatehouse database (${code}: ${(error as Error).message}); it was left untouched`,
    );
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  return {
    db,
    kind: 'sqlite',
    description: `sqlite:${file}`,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

/** A non-empty file without the SQLite header is someone else's file (or corrupt): refuse. */
function refuseForeignFile(file: string): void {
  if (!existsSync(file)) return;
  const stats = statSync(file);
  if (!stats.isFile()) throw new StoreRefusedError(`${file} is not a regular file; refusing to use it as the database`);
  if (stats.size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new StoreRefusedError(`${file} is not a SQLite database (corrupt or foreign file); it was left untouched`);
  }
}

/** A SQLite database with tables but without our migration table belongs to another program. */
function refuseForeignSchema(connection: SQLite.Database, file: string): void {
  const tables = connection
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
    .all() as Array<{ name: string }>;
  if (tables.length === 0) return;
  if (!tables.some((table) => table.name === 'gatehouse_migration')) {
    const names = tables
      .slice(0, 5)
      .map((table) => table.name)
      .join(', ');
    throw new StoreRefusedError(
      `${file} is a SQLite database of another program (tables: ${names}); it was left untouched`,
    );
  }
}

async function openPostgres(url: string, options: OpenStoreOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'gatehouse',
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would crash.
  pool.on('error', (error) => options.onBackgroundError?.(error));
  // A checked-out client has no pool listener: if its connection drops mid-query (failover, a
  // network cut), pg rejects the query *and* emits 'error' on the client, which would crash the
  // process. The query's rejection already reaches the caller (503); this only logs.
  pool.on('connect', (client) => client.on('error', (error) => options.onBackgroundError?.(error)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '****';
  return {
    db,
    kind: 'postgres',
    description: parsed.toString(),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
