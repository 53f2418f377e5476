/**
 * The one migration set, for SQLite and PostgreSQL alike. Names sort in the order they run;
 * a feature adds `NNNN-<feature>.ts` and one line here. Never edit a migration that has shipped:
 * add a new one.
 */
import type { Migration } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as apiKeys from './0002-api-keys.js';
import * as users from './0003-users.js';
import * as signingKeys from './0004-signing-keys.js';
import * as tokens from './0005-tokens.js';
import * as oauthClients from './0006-oauth-clients.js';
import * as oauthGrants from './0007-oauth-grants.js';
import * as legacyApiKeys from './0008-legacy-api-keys.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-foundation': foundation,
  '0002-api-keys': apiKeys,
  '0003-users': users,
  '0004-signing-keys': signingKeys,
  '0005-tokens': tokens,
  '0006-oauth-clients': oauthClients,
  '0007-oauth-grants': oauthGrants,
  '0008-legacy-api-keys': legacyApiKeys,
};
