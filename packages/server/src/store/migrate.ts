/**
 * Applies the migrations. Safe when several instances start at once on one PostgreSQL: Kysely's
 * migrator takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`) around the run, so
 * one instance migrates and the others then find nothing to do. On SQLite the write lock of the
 * migration transaction serialises processes the same way.
 */
import { type MigrationResultSet, Migrator } from 'kysely';
import type { Store } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

const migrationTables = {
  migrationTableName: 'gatehouse_migration',
  migrationLockTableName: 'gatehouse_migration_lock',
} as const;

function migratorFor(store: Store): Migrator {
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    ...migrationTables,
  });
}

export interface MigrationReport {
  readonly applied: string[];
}

export async function migrateToLatest(store: Store): Promise<MigrationReport> {
  const result: MigrationResultSet = await migratorFor(store).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((item) => item.status === 'Error');
    const error = result.error instanceof Error ? result.error : new Error(String(result.error));
    error.message = `migration ${failed?.migrationName ?? '(unknown)'} failed: ${error.message}`;
    throw error;
  }
  return {
    applied: (result.results ?? []).filter((item) => item.status === 'Success').map((item) => item.migrationName),
  };
}

/** Names of migrations not yet applied (readiness reports not-ready while any remain). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  const migrations = await migratorFor(store).getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}
