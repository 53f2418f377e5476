/**
 * Refresh tokens (issue 5 item 6; RFC 9700 §4.14, docs/security.md #17): opaque, 256 random bits,
 * stored only as SHA-256, bound to a subject and a client, rotated on every use. Every token
 * rotated from one login shares a family; presenting a token that was already exchanged means
 * two parties hold it, and since the server cannot tell which is legitimate, the whole family is
 * revoked (RFC 9700 §4.14.2), with the access tokens issued from it. A family has an absolute
 * expiry from login and each token an idle expiry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../audit/audit.js';
import { newId, randomBase62 } from '../secrets/random.js';

export const REFRESH_TOKEN_PREFIX = 'ghr_';

export interface RefreshTokenRecord {
  readonly id: string;
  readonly familyId: string;
  readonly tokenHash: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scope: string;
  readonly audience: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly idleExpiresAt: string;
  readonly usedAt: string | null;
  readonly revokedAt: string | null;
  readonly accessJti: string | null;
  readonly accessExpiresAt: string | null;
}

export interface RefreshTokenStore {
  insert(record: RefreshTokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks the token used if it is neither used nor revoked; true when this call did it. */
  markUsed(id: string, at: string): Promise<boolean>;
  /** Revokes every token of a family; answers the family's tokens (for their access jtis). */
  revokeFamily(familyId: string, at: string): Promise<RefreshTokenRecord[]>;
  /** Revokes every live token of a subject or client; answers them. */
  revokeWhere(filter: { subject?: string; clientId?: string }, at: string): Promise<RefreshTokenRecord[]>;
  purgeExpired(now: string): Promise<number>;
}

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Shape check before any store access: prefix and base62 body of the length we issue. */
const REFRESH_TOKEN_SHAPE = /^ghr_[0-9A-Za-z]{43}$/;

export type RefreshOutcome =
  | { readonly ok: true; readonly record: RefreshTokenRecord }
  | {
      readonly ok: false;
      readonly reason: 'malformed' | 'unknown' | 'wrong_client' | 'revoked' | 'expired' | 'reused';
      /** For `reused`: the family that was revoked. */
      readonly revoked?: readonly RefreshTokenRecord[];
    };

export interface NewRefreshToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scope: string;
  readonly audience: string;
  readonly accessJti: string;
  /** ms */
  readonly accessExpiresAt: number;
  /** Continue this family (rotation) instead of starting one (login). */
  readonly family?: { readonly id: string; readonly expiresAt: string };
}

export interface RefreshTokens {
  issue(request: NewRefreshToken): Promise<{ token: string; record: RefreshTokenRecord }>;
  /** Consumes a token for rotation: checks it, marks it used, detects reuse. */
  consume(token: string, clientId: string): Promise<RefreshOutcome>;
  /** Revokes the family of a token (logout); answers the revoked records, empty for unknown tokens. */
  revokeFamilyOf(token: string, clientId: string | undefined): Promise<readonly RefreshTokenRecord[]>;
  revokeFamily(familyId: string): Promise<readonly RefreshTokenRecord[]>;
  /** Revokes every live token of a subject or a client. */
  revokeWhere(filter: { subject?: string; clientId?: string }): Promise<readonly RefreshTokenRecord[]>;
}

export function createRefreshTokens(options: {
  readonly store: RefreshTokenStore;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly idleTtlMs: number;
}): RefreshTokens {
  const { store, clock } = options;
  const iso = (ms: number) => new Date(ms).toISOString();

  async function find(token: string): Promise<RefreshTokenRecord | undefined> {
    if (!REFRESH_TOKEN_SHAPE.test(token)) return undefined;
    const hash = hashRefreshToken(token);
    const record = await store.findByHash(hash);
    // Looked up by hash; the constant-time comparison is defence in depth.
    if (!record || !timingSafeEqual(Buffer.from(record.tokenHash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    return record;
  }

  return {
    async issue(request) {
      const now = clock.now();
      const token = `${REFRESH_TOKEN_PREFIX}${randomBase62(32)}`;
      const expiresAt = request.family?.expiresAt ?? iso(now + options.ttlMs);
      const idle = Math.min(now + options.idleTtlMs, Date.parse(expiresAt));
      const record: RefreshTokenRecord = {
        id: newId('rt'),
        familyId: request.family?.id ?? newId('rtf'),
        tokenHash: hashRefreshToken(token),
        subject: request.subject,
        clientId: request.clientId,
        scope: request.scope,
        audience: request.audience,
        createdAt: iso(now),
        expiresAt,
        idleExpiresAt: iso(idle),
        usedAt: null,
        revokedAt: null,
        accessJti: request.accessJti,
        accessExpiresAt: iso(request.accessExpiresAt),
      };
      await store.insert(record);
      return { token, record };
    },

    async consume(token, clientId) {
      if (!REFRESH_TOKEN_SHAPE.test(token)) return { ok: false, reason: 'malformed' };
      const record = await find(token);
      if (!record) return { ok: false, reason: 'unknown' };
      // RFC 6749 §6: the refresh token is bound to the client it was issued to. Another client
      // presenting it learns nothing and changes nothing.
      if (record.clientId !== clientId) return { ok: false, reason: 'wrong_client' };
      if (record.revokedAt !== null) return { ok: false, reason: 'revoked' };
      const now = clock.now();
      if (record.usedAt !== null) {
        // RFC 9700 §4.14.2: reuse of a rotated token revokes the whole family.
        return { ok: false, reason: 'reused', revoked: await store.revokeFamily(record.familyId, iso(now)) };
      }
      if (Date.parse(record.expiresAt) <= now || Date.parse(record.idleExpiresAt) <= now) {
        return { ok: false, reason: 'expired' };
      }
      if (!(await store.markUsed(record.id, iso(now)))) {
        // Another request exchanged it between our read and our write: that is reuse too.
        return { ok: false, reason: 'reused', revoked: await store.revokeFamily(record.familyId, iso(now)) };
      }
      return { ok: true, record };
    },

    async revokeFamilyOf(token, clientId) {
      const record = await find(token);
      if (!record || (clientId !== undefined && record.clientId !== clientId)) return [];
      return store.revokeFamily(record.familyId, iso(clock.now()));
    },

    revokeFamily(familyId) {
      return store.revokeFamily(familyId, iso(clock.now()));
    },

    revokeWhere(filter) {
      return store.revokeWhere(filter, iso(clock.now()));
    },
  };
}
