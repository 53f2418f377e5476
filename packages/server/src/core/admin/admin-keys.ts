/**
 * The admin credential: a bearer key for the admin API. On first start with an empty store one
 * is generated (or taken from `admin_key`), and only its SHA-256 is stored. A key of 256 random
 * bits needs no slow hash: nobody can guess it from its SHA-256, so a fast hash is safe and keeps
 * verification cheap (the same reasoning as API keys).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../audit/audit.js';
import { randomBase62 } from '../secrets/random.js';

export const ADMIN_KEY_PREFIX = 'gh_admin_';
/** The credential created on first start (generated or preset). */
export const BOOTSTRAP_ADMIN_ID = 'adm_bootstrap';

export interface AdminCredential {
  readonly id: string;
  readonly name: string;
  readonly keyHash: string;
  readonly keyHint: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** What admin authentication needs of the store (implemented in store/). */
export interface AdminCredentialStore {
  findByHash(keyHash: string): Promise<AdminCredential | undefined>;
  findById(id: string): Promise<AdminCredential | undefined>;
  /** Inserts unless a credential with this id exists; true when inserted. */
  insertIfAbsent(credential: AdminCredential): Promise<boolean>;
  /** Replaces the key of a credential (creating it when missing). */
  upsert(credential: AdminCredential): Promise<void>;
}

export const generateAdminKey = (): string => `${ADMIN_KEY_PREFIX}${randomBase62(32)}`;

export const hashAdminKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Shows enough of a key to recognise it, never enough to use it. */
export const adminKeyHint = (key: string): string => `${key.slice(0, Math.min(12, Math.floor(key.length / 3)))}…`;

export type BootstrapResult =
  | { readonly outcome: 'generated'; readonly key: string }
  | { readonly outcome: 'preset' }
  | { readonly outcome: 'existing' };

/**
 * Makes sure an admin credential exists. A preset key replaces the bootstrap credential's hash
 * (so changing `admin_key` rotates it); otherwise a key is generated once, and only the instance
 * whose insert wins (several may start at once on PostgreSQL) gets it back to show.
 */
export async function ensureBootstrapAdminKey(
  store: AdminCredentialStore,
  preset: string | undefined,
  clock: Clock,
): Promise<BootstrapResult> {
  const now = new Date(clock.now()).toISOString();
  if (preset !== undefined) {
    const existing = await store.findById(BOOTSTRAP_ADMIN_ID);
    if (existing?.keyHash !== hashAdminKey(preset)) {
      await store.upsert({
        id: BOOTSTRAP_ADMIN_ID,
        name: 'bootstrap (preset)',
        keyHash: hashAdminKey(preset),
        keyHint: adminKeyHint(preset),
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
      });
    }
    return { outcome: 'preset' };
  }
  if (await store.findById(BOOTSTRAP_ADMIN_ID)) return { outcome: 'existing' };
  const key = generateAdminKey();
  const inserted = await store.insertIfAbsent({
    id: BOOTSTRAP_ADMIN_ID,
    name: 'bootstrap',
    keyHash: hashAdminKey(key),
    keyHint: adminKeyHint(key),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  });
  return inserted ? { outcome: 'generated', key } : { outcome: 'existing' };
}

export type AdminVerification =
  | { readonly ok: true; readonly credential: AdminCredential }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'unknown' | 'revoked' };

const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** Checks an `Authorization: Bearer <admin key>` header value. Store failures throw. */
export async function verifyAdminAuthorization(
  store: AdminCredentialStore,
  authorization: string | undefined,
): Promise<AdminVerification> {
  if (!authorization) return { ok: false, reason: 'missing' };
  const match = BEARER.exec(authorization.trim());
  if (!match?.[1]) return { ok: false, reason: 'malformed' };
  const presentedHash = hashAdminKey(match[1]);
  const credential = await store.findByHash(presentedHash);
  // The lookup is by hash; the constant-time comparison is defence in depth (docs/security.md #29).
  if (!credential || !timingSafeEqual(Buffer.from(credential.keyHash, 'hex'), Buffer.from(presentedHash, 'hex'))) {
    return { ok: false, reason: 'unknown' };
  }
  if (credential.revokedAt !== null) return { ok: false, reason: 'revoked' };
  return { ok: true, credential };
}
