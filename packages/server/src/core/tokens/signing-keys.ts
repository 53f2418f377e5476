/**
 * Signing keys and their rotation (docs/jwt.md). A key is `next` (published in the JWKS, not
 * signing yet), then `active` (signing), then `retired` (published, verify only) until every token
 * it signed has expired, then deleted. The timeline follows docs/security.md #37: a key is published
 * `publish_ahead` (longer than any JWKS cache) before it signs, and stays published after
 * retirement for the longest token lifetime.
 *
 * `planRotation` is pure: given the keys and the time it answers the steps to take. The key ring
 * applies them inside the store's rotation lock, so several instances on one database agree.
 */
import type { JWK } from 'jose';

/** Algorithms of keys the server generates (HS256 comes from configuration, never from here). */
export type AsymmetricAlgorithm = 'ES256' | 'EdDSA' | 'RS256';
export type SigningKeyState = 'next' | 'active' | 'retired';

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm;
  readonly state: SigningKeyState;
  /** Public members only. */
  readonly publicJwk: JWK;
  /** The private JWK sealed under the master key; null for an imported verify-only key. */
  readonly privateJwkSealed: string | null;
  readonly createdAt: string;
  readonly activatesAt: string | null;
  readonly activatedAt: string | null;
  readonly retiredAt: string | null;
  readonly deleteAfter: string | null;
}

export type SigningKeyChanges = Partial<
  Pick<SigningKeyRecord, 'state' | 'activatesAt' | 'activatedAt' | 'retiredAt' | 'deleteAfter'>
>;

/** The key operations available while the rotation lock is held. */
export interface SigningKeyTransaction {
  list(): Promise<SigningKeyRecord[]>;
  insert(record: SigningKeyRecord): Promise<void>;
  update(kid: string, changes: SigningKeyChanges): Promise<void>;
  delete(kid: string): Promise<void>;
}

/** Where signing keys live (implemented in store/). */
export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Runs `work` holding the rotation lock: on every instance sharing the store, one at a time,
   * in one transaction, so two instances never both create or both activate a key.
   */
  withLock<T>(work: (transaction: SigningKeyTransaction) => Promise<T>): Promise<T>;
}

export interface RotationPolicy {
  /** Algorithm of the keys to create (the configured one, or ES256 when tokens use HS256). */
  readonly algorithm: AsymmetricAlgorithm;
  readonly rotateEveryMs: number;
  readonly publishAheadMs: number;
  /** How long a retired key stays published: the longest token lifetime plus the leeway. */
  readonly retainRetiredMs: number;
}

export type RotationStep =
  | { readonly kind: 'create'; readonly state: 'active' | 'next'; readonly activatesAt: number }
  | { readonly kind: 'activate'; readonly kid: string }
  | { readonly kind: 'retire'; readonly kid: string }
  | { readonly kind: 'delete'; readonly kid: string };

const time = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

/** The steps that bring the key set up to date at `now`. */
export function planRotation(keys: readonly SigningKeyRecord[], now: number, policy: RotationPolicy): RotationStep[] {
  const steps: RotationStep[] = [];
  for (const key of keys) {
    if (key.state === 'retired' && time(key.deleteAfter) <= now) steps.push({ kind: 'delete', kid: key.kid });
  }
  const active = keys.find((key) => key.state === 'active');
  const next = keys.find((key) => key.state === 'next');
  if (!active) {
    // No key signs (first start, or after an emergency): a fresh store has no verifier that could
    // have cached anything, so the new key signs at once.
    steps.push(next ? { kind: 'activate', kid: next.kid } : { kind: 'create', state: 'active', activatesAt: now });
    return steps;
  }
  if (next && time(next.activatesAt) <= now) {
    steps.push({ kind: 'activate', kid: next.kid }, { kind: 'retire', kid: active.kid });
    return steps;
  }
  if (!next) {
    const due = time(active.activatedAt) + policy.rotateEveryMs;
    if (active.alg !== policy.algorithm) {
      // The operator changed keys.algorithm: the new kind of key is published ahead like any other.
      steps.push({ kind: 'create', state: 'next', activatesAt: now + policy.publishAheadMs });
    } else if (now >= due - policy.publishAheadMs) {
      steps.push({ kind: 'create', state: 'next', activatesAt: Math.max(due, now + policy.publishAheadMs) });
    }
  }
  return steps;
}

/** When `planRotation` will next have something to do (for lazy checks between timer ticks). */
export function nextRotationCheck(keys: readonly SigningKeyRecord[], policy: RotationPolicy): number {
  let at = Number.POSITIVE_INFINITY;
  const active = keys.find((key) => key.state === 'active');
  const next = keys.find((key) => key.state === 'next');
  if (!active) return Number.NEGATIVE_INFINITY;
  if (next) at = Math.min(at, time(next.activatesAt));
  else at = Math.min(at, time(active.activatedAt) + policy.rotateEveryMs - policy.publishAheadMs);
  for (const key of keys) if (key.state === 'retired') at = Math.min(at, time(key.deleteAfter));
  return at;
}
