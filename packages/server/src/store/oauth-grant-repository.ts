/**
 * The authorization server's short-lived state on SQLite and PostgreSQL alike: codes, grants and
 * their access tokens, consents, login sessions, interactions, client-assertion jti values.
 */
import type { Kysely } from 'kysely';
import type {
  CodeStore,
  ConsentStore,
  GrantRecord,
  GrantStore,
  InteractionStore,
  Pruner,
  SessionStore,
  StoredCode,
} from '../core/oauth/authorization-store.js';
import type { AssertionReplayStore } from '../core/oauth/client-auth.js';
import type { Database, OAuthCodeTable, OAuthGrantTable } from './schema.js';
import { isUniqueViolation } from './unique-violation.js';

const toCode = (row: OAuthCodeTable): StoredCode => {
  const data = JSON.parse(row.data) as {
    nonce?: string;
    authTime: number;
    audience?: string[];
    redirectUriGiven: boolean;
  };
  return {
    codeHash: row.code_hash,
    clientId: row.client_id,
    subject: row.subject,
    redirectUri: row.redirect_uri,
    scopes: JSON.parse(row.scopes) as string[],
    codeChallenge: row.code_challenge,
    nonce: data.nonce,
    authTime: data.authTime,
    audience: data.audience,
    redirectUriGiven: data.redirectUriGiven,
    grantId: row.grant_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
};

const toGrant = (row: OAuthGrantTable): GrantRecord => {
  const data = JSON.parse(row.data) as { authTime: number; audience?: string[] };
  return {
    id: row.id,
    clientId: row.client_id,
    subject: row.subject,
    familyId: row.family_id,
    authTime: data.authTime,
    audience: data.audience,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
};

export function codeRepository(db: Kysely<Database>): CodeStore {
  return {
    async insert(code) {
      await db
        .insertInto('oauth_codes')
        .values({
          code_hash: code.codeHash,
          client_id: code.clientId,
          subject: code.subject,
          redirect_uri: code.redirectUri,
          scopes: JSON.stringify(code.scopes),
          code_challenge: code.codeChallenge,
          data: JSON.stringify({
            nonce: code.nonce,
            authTime: code.authTime,
            audience: code.audience,
            redirectUriGiven: code.redirectUriGiven,
          }),
          grant_id: code.grantId,
          created_at: code.createdAt,
          expires_at: code.expiresAt,
          used_at: null,
        })
        .execute();
    },
    async find(codeHash) {
      const row = await db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
      return row ? toCode(row) : undefined;
    },
    async markUsed(codeHash, now) {
      // One conditional UPDATE: of two concurrent redemptions, exactly one changes the row.
      const result = await db
        .updateTable('oauth_codes')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export function grantRepository(db: Kysely<Database>): GrantStore {
  return {
    async create(grant) {
      await db
        .insertInto('oauth_grants')
        .values({
          id: grant.id,
          client_id: grant.clientId,
          subject: grant.subject,
          family_id: grant.familyId,
          data: JSON.stringify({ authTime: grant.authTime, audience: grant.audience }),
          created_at: grant.createdAt,
          expires_at: grant.expiresAt,
          revoked_at: null,
        })
        .execute();
    },
    async setFamily(grantId, familyId) {
      await db.updateTable('oauth_grants').set({ family_id: familyId }).where('id', '=', grantId).execute();
    },
    async find(grantId) {
      const row = await db.selectFrom('oauth_grants').selectAll().where('id', '=', grantId).executeTakeFirst();
      return row ? toGrant(row) : undefined;
    },
    async findByFamily(familyId) {
      const row = await db.selectFrom('oauth_grants').selectAll().where('family_id', '=', familyId).executeTakeFirst();
      return row ? toGrant(row) : undefined;
    },
    async addAccessToken(grantId, jti, expiresAt) {
      await db.insertInto('oauth_grant_tokens').values({ jti, grant_id: grantId, expires_at: expiresAt }).execute();
    },
    async accessTokens(grantId, now) {
      const rows = await db
        .selectFrom('oauth_grant_tokens')
        .select(['jti', 'expires_at'])
        .where('grant_id', '=', grantId)
        .where('expires_at', '>', now)
        .execute();
      return rows.map((row) => ({ jti: row.jti, expiresAt: row.expires_at }));
    },
    async markRevoked(grantId, at) {
      await db.updateTable('oauth_grants').set({ revoked_at: at }).where('id', '=', grantId).execute();
    },
  };
}

export function consentRepository(db: Kysely<Database>): ConsentStore {
  return {
    async find(subject, clientId) {
      const row = await db
        .selectFrom('oauth_consents')
        .select('scopes')
        .where('subject', '=', subject)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row ? (JSON.parse(row.scopes) as string[]) : undefined;
    },
    async save(subject, clientId, scopes, at) {
      const values = { subject, client_id: clientId, scopes: JSON.stringify(scopes), granted_at: at };
      await db
        .insertInto('oauth_consents')
        .values(values)
        .onConflict((conflict) =>
          conflict.columns(['subject', 'client_id']).doUpdateSet({ scopes: values.scopes, granted_at: at }),
        )
        .execute();
    },
  };
}

export function sessionRepository(db: Kysely<Database>): SessionStore {
  return {
    async create(session) {
      await db
        .insertInto('oauth_sessions')
        .values({
          id_hash: session.idHash,
          subject: session.subject,
          auth_time: session.authTime,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
        })
        .execute();
    },
    async find(idHash, now) {
      const row = await db
        .selectFrom('oauth_sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row
        ? { idHash: row.id_hash, subject: row.subject, authTime: Number(row.auth_time), expiresAt: row.expires_at }
        : undefined;
    },
    async delete(idHash) {
      await db.deleteFrom('oauth_sessions').where('id_hash', '=', idHash).execute();
    },
  };
}

export function interactionRepository(db: Kysely<Database>): InteractionStore {
  return {
    async create(interaction) {
      await db
        .insertInto('oauth_interactions')
        .values({
          id_hash: interaction.idHash,
          browser_hash: interaction.browserHash,
          csrf_token: interaction.csrfToken,
          request: JSON.stringify(interaction.request),
          subject: interaction.subject,
          auth_time: interaction.authTime,
          created_at: interaction.createdAt,
          expires_at: interaction.expiresAt,
        })
        .execute();
    },
    async find(idHash, now) {
      const row = await db
        .selectFrom('oauth_interactions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        idHash: row.id_hash,
        browserHash: row.browser_hash,
        csrfToken: row.csrf_token,
        request: JSON.parse(row.request) as Record<string, unknown>,
        subject: row.subject,
        authTime: row.auth_time === null ? null : Number(row.auth_time),
        expiresAt: row.expires_at,
      };
    },
    async setSubject(idHash, subject, authTime) {
      await db
        .updateTable('oauth_interactions')
        .set({ subject, auth_time: authTime })
        .where('id_hash', '=', idHash)
        .execute();
    },
    async delete(idHash) {
      const result = await db.deleteFrom('oauth_interactions').where('id_hash', '=', idHash).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export function assertionReplayRepository(db: Kysely<Database>): AssertionReplayStore {
  return {
    async remember(clientId, jti, expiresAt) {
      try {
        await db
          .insertInto('oauth_assertion_jtis')
          .values({ client_id: clientId, jti, expires_at: expiresAt })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
  };
}

/** How long a used or expired code is kept, so that a late replay still revokes its grant. */
const CODE_RETENTION_MS = 24 * 3_600_000;

/** Deletes expired rows of every table above. */
export function oauthPruner(db: Kysely<Database>): Pruner {
  return {
    async prune(now) {
      let removed = 0;
      const codesBefore = new Date(Date.parse(now) - CODE_RETENTION_MS).toISOString();
      const codes = await db.deleteFrom('oauth_codes').where('expires_at', '<', codesBefore).executeTakeFirst();
      removed += Number(codes.numDeletedRows);
      const grants = await db.deleteFrom('oauth_grants').where('expires_at', '<', now).executeTakeFirst();
      removed += Number(grants.numDeletedRows);
      for (const table of [
        'oauth_sessions',
        'oauth_interactions',
        'oauth_assertion_jtis',
        'oauth_grant_tokens',
      ] as const) {
        const result = await db.deleteFrom(table).where('expires_at', '<', now).executeTakeFirst();
        removed += Number(result.numDeletedRows);
      }
      return removed;
    },
  };
}
