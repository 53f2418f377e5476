/**
 * What an API key is, once issued, and what the domain needs of the store. The plaintext key is
 * never part of the model: only its SHA-256 (see ./hash.ts), the prefix and the last four
 * characters for display.
 */
import type { RateLimitRule } from '../ratelimit/rate.js';

export interface ApiKey {
  /** `key_…` */
  readonly id: string;
  readonly name: string;
  /** The subject the key authenticates as; the key's own id when there is no owner. */
  readonly owner: string | null;
  /** The prefix the key was issued under (`gk`, `gk_live`). */
  readonly prefix: string;
  /** The key's last four characters (checksum characters: they reveal nothing of the secret). */
  readonly last4: string;
  /** SHA-256 of the key, lower-case hex. */
  readonly keyHash: string;
  readonly scopes: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly rateLimit: RateLimitRule | null;
  /** Uses left, or null for unlimited. Counted down atomically in the store. */
  readonly remainingUses: number | null;
  /** ISO 8601 UTC times. */
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  /** Set on a key that was rotated: the key that replaced it. */
  readonly replacedBy: string | null;
  /** Set with `replacedBy`: until when the rotated key keeps working. */
  readonly graceUntil: string | null;
  /** Set on a key issued by rotation: the key it replaced. */
  readonly rotatedFrom: string | null;
  /**
   * Imported from another system (`apikey import`): any format, no prefix or checksum (`prefix`
   * and `last4` are empty). Verified by hash like any key, only from the API-key header; rotate it
   * to give the client a checksummed key.
   */
  readonly legacy: boolean;
}

export const API_KEY_STATES = ['active', 'revoked', 'rotated', 'expired', 'exhausted'] as const;
export type ApiKeyState = (typeof API_KEY_STATES)[number];

/**
 * A key's state at `now`, in precedence order: revoked, then rotated (replaced: it still works
 * until `graceUntil`, which the views show beside the state), expired, exhausted; otherwise
 * active. A key in its grace period is `rotated`, not `active`: it is on its way out, and a list
 * of active keys should not invite anyone to hand it out again.
 */
export function stateOf(key: ApiKey, now: string): ApiKeyState {
  if (key.revokedAt !== null) return 'revoked';
  if (key.replacedBy !== null) return 'rotated';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  if (key.remainingUses !== null && key.remainingUses <= 0) return 'exhausted';
  return 'active';
}

/**
 * The key whose counters (remaining uses, rate limit) a request draws on: a rotated key in its
 * grace period shares its replacement's, so rotating never doubles a quota.
 */
export const usageKeyId = (key: Pick<ApiKey, 'id' | 'replacedBy'>): string => key.replacedBy ?? key.id;

export interface ApiKeyQuery {
  readonly owner?: string | undefined;
  readonly state?: ApiKeyState | undefined;
  /** ISO time the state filter is evaluated at. */
  readonly now: string;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Fields an update may change; `undefined` leaves a field as it is, `null` clears it. */
export interface ApiKeyChanges {
  readonly name?: string;
  readonly scopes?: readonly string[];
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly rateLimit?: RateLimitRule | null;
  readonly remainingUses?: number | null;
  readonly expiresAt?: string | null;
}

/** Why a key cannot be changed: it does not exist, or it is final. */
export type ChangeRefusal = 'not_found' | 'revoked' | 'rotated';

export type UpdateResult =
  | { readonly ok: true; readonly key: ApiKey }
  | { readonly ok: false; readonly reason: ChangeRefusal };

export type RotateResult =
  | { readonly ok: true; readonly old: ApiKey; readonly replacement: ApiKey; readonly affected: readonly string[] }
  | { readonly ok: false; readonly reason: ChangeRefusal };

/** What the API key domain needs of the store (implemented in store/api-key-repository.ts). */
export interface ApiKeyStore {
  insert(key: ApiKey): Promise<void>;
  /**
   * Inserts every key in one transaction, or none: when a key's hash is already stored, nothing
   * is written and the clashing hashes are answered.
   */
  insertAll(keys: readonly ApiKey[]): Promise<{ readonly ok: true } | { readonly ok: false; clashes: string[] }>;
  /** Is any legacy key still able to verify at `now` (not revoked, not past its grace period)? */
  hasLiveLegacyKeys(now: string): Promise<boolean>;
  findByHash(keyHash: string): Promise<ApiKey | undefined>;
  findById(id: string): Promise<ApiKey | undefined>;
  /** Newest first; throws InvalidCursorError for a cursor it did not make. */
  list(query: ApiKeyQuery): Promise<{ keys: ApiKey[]; nextCursor: string | null }>;
  /** Applies the changes, unless the key is revoked or rotated (those are final). */
  update(id: string, changes: ApiKeyChanges, now: string): Promise<UpdateResult>;
  /** Sets `revoked_at` unless already set; `changed` is false for a key that was already revoked. */
  revoke(id: string, now: string): Promise<{ key: ApiKey; changed: boolean } | undefined>;
  /**
   * In one transaction: reads the old key, refuses if it is revoked or already rotated, inserts
   * `makeReplacement(old)` (built from the row read inside the transaction, so a use count is
   * copied exactly), marks the old key rotated until `graceUntil`, and points keys still in their
   * grace period towards the old one at the replacement. `affected` lists every changed key id.
   */
  rotate(
    oldId: string,
    makeReplacement: (old: ApiKey) => ApiKey,
    graceUntil: string,
    now: string,
  ): Promise<RotateResult>;
  /**
   * Atomically takes one use from the key (`remaining_uses > 0`); answers the uses left after it,
   * or undefined when none were left.
   */
  consumeUse(id: string): Promise<number | undefined>;
  /** Writes `last_used_at` for each key (one UPDATE per key), never moving it backwards. */
  recordLastUsed(times: ReadonlyMap<string, string>): Promise<void>;
}
