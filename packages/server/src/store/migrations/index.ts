/**
 * The one migration set, for SQLite and PostgreSQL alike. Names sort in the order they run;
 * a feature adds `NNNN-<feature>.ts` and one line here. Never edit a migration that has shipped:
 * add a new one.
 */
import type { Migration } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as apiKeys from './0002-api-keys.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-foundation': foundation,
  '0002-api-keys': apiKeys,
};
