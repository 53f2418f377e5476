import type { Kysely } from 'kysely';
import type { ClientAuthMethod, ClientStore, GrantType, OAuthClient } from '../core/oauth/clients.js';
import { decodeCursor, InvalidCursorError, pageOf } from './pagination.js';
import type { Database, OAuthClientTable } from './schema.js';
import { isUniqueViolation } from './unique-violation.js';

const toClient = (row: OAuthClientTable): OAuthClient => ({
  id: row.id,
  name: row.name,
  grantTypes: JSON.parse(row.grant_types) as GrantType[],
  scopes: JSON.parse(row.scopes) as string[],
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  audience: JSON.parse(row.audience) as string[],
  authMethod: row.auth_method as ClientAuthMethod,
  secrets: JSON.parse(row.secrets) as OAuthClient['secrets'],
  jwks: row.jwks ? (JSON.parse(row.jwks) as OAuthClient['jwks']) : null,
  jwksUri: row.jwks_uri,
  accessTokenLifetime: row.access_token_lifetime === null ? null : Number(row.access_token_lifetime),
  refreshTokenLifetime: row.refresh_token_lifetime === null ? null : Number(row.refresh_token_lifetime),
  skipConsent: Number(row.skip_consent) === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toRow = (client: OAuthClient): OAuthClientTable => ({
  id: client.id,
  name: client.name,
  grant_types: JSON.stringify(client.grantTypes),
  scopes: JSON.stringify(client.scopes),
  redirect_uris: JSON.stringify(client.redirectUris),
  audience: JSON.stringify(client.audience),
  auth_method: client.authMethod,
  secrets: JSON.stringify(client.secrets),
  jwks: client.jwks ? JSON.stringify(client.jwks) : null,
  jwks_uri: client.jwksUri,
  access_token_lifetime: client.accessTokenLifetime,
  refresh_token_lifetime: client.refreshTokenLifetime,
  skip_consent: client.skipConsent ? 1 : 0,
  created_at: client.createdAt,
  updated_at: client.updatedAt,
});

/**
 * Clients are read on every token request: a small cache keyed by id answers repeat lookups
 * without the store. Entries live `cacheTtlMs` (a change made through another instance is seen
 * within that time); changes made through this instance drop the entry at once.
 */
export function oauthClientRepository(
  db: Kysely<Database>,
  options: { cacheTtlMs?: number; now?: () => number } = {},
): ClientStore {
  const ttl = options.cacheTtlMs ?? 5000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { client: OAuthClient | undefined; until: number }>();
  const MAX_CACHED = 10_000;

  return {
    async find(id) {
      const cached = cache.get(id);
      if (cached && cached.until > now()) return cached.client;
      const row = await db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
      const client = row ? toClient(row) : undefined;
      // Unknown ids are not cached: a flood of random ids must not evict real clients.
      if (client) {
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
        cache.set(id, { client, until: now() + ttl });
      }
      return client;
    },
    async insert(client) {
      try {
        await db.insertInto('oauth_clients').values(toRow(client)).execute();
        cache.delete(client.id);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async update(client) {
      const { id, created_at: _created, ...changes } = toRow(client);
      const result = await db.updateTable('oauth_clients').set(changes).where('id', '=', id).executeTakeFirst();
      cache.delete(id);
      return Number(result.numUpdatedRows) > 0;
    },
    async delete(id) {
      const result = await db.deleteFrom('oauth_clients').where('id', '=', id).executeTakeFirst();
      cache.delete(id);
      return Number(result.numDeletedRows) > 0;
    },
    async list({ limit, cursor }) {
      let select = db.selectFrom('oauth_clients').selectAll();
      if (cursor) {
        const position = decodeCursor(cursor);
        if (!position) throw new InvalidCursorError();
        select = select.where((eb) =>
          eb.or([
            eb('created_at', '>', position.sort),
            eb.and([eb('created_at', '=', position.sort), eb('id', '>', position.id)]),
          ]),
        );
      }
      const rows = await select
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(limit + 1)
        .execute();
      const page = pageOf(rows, limit, (row) => ({ sort: row.created_at, id: row.id }));
      return { clients: page.rows.map(toClient), nextCursor: page.nextCursor };
    },
  };
}
