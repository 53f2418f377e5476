/**
 * The key ring: this instance's in-memory view of the signing keys, so that the hot path
 * (verification) and signing never touch the store. It reloads from the store every
 * `tokens.sync_interval`, when a token names a kid it does not know (at most once per
 * `UNKNOWN_KID_RELOAD_MS`, so a flood of random kids cannot hammer the store), after an admin
 * change, and when the rotation timeline says something is due. Rotation steps run inside the
 * store's lock (see ./signing-keys.ts), so instances sharing a database agree on the active key.
 * When the store is down, the last loaded keys keep verifying (docs/security.md: JWT verification
 * keeps working from cached keys).
 */
import type { VerificationKey } from '@gatehouse/sdk/jwt';
import type { JWK } from 'jose';
import type { Clock } from '../audit/audit.js';
import type { SealedBox } from '../secrets/sealed-box.js';
import {
  generateSigningKey,
  hs256Key,
  openSigner,
  type Signer,
  sealPurpose,
  verificationKeyOf,
} from './key-material.js';
import {
  type AsymmetricAlgorithm,
  nextRotationCheck,
  planRotation,
  type RotationPolicy,
  type RotationStep,
  type SigningKeyRecord,
  type SigningKeyStore,
  type SigningKeyTransaction,
} from './signing-keys.js';

/** Unknown kids reload the keys at most this often. */
export const UNKNOWN_KID_RELOAD_MS = 10_000;

export interface KeyRingOptions {
  readonly store: SigningKeyStore;
  readonly sealedBox: SealedBox;
  readonly clock: Clock;
  /** The algorithm access tokens are signed with. */
  readonly algorithm: AsymmetricAlgorithm | 'HS256';
  readonly hs256Secret: string | undefined;
  readonly rotateEveryMs: number;
  readonly publishAheadMs: number;
  readonly retainRetiredMs: number;
  readonly syncIntervalMs: number;
  readonly onError: (error: unknown, context: string) => void;
  /** Called after a reload with the kids that disappeared (their cached verifications must go). */
  readonly onKeysRemoved?: (kids: readonly string[]) => void;
  /** Records rotation steps (key created, activated, retired, deleted) in the audit log. */
  readonly onStep?: (step: RotationStep & { readonly kid?: string }, actor: string) => void;
}

export interface JwksDocument {
  /** The serialised `{"keys": [...]}`, built once per key change. */
  readonly body: string;
  readonly keys: readonly JWK[];
}

export interface ManualRotation {
  /**
   * Generate a key that signs at once instead of after `publish_ahead` (a suspected compromise):
   * the active key is retired and a pending next key discarded, never promoted.
   */
  readonly immediate?: boolean;
}

export class KeyRingError extends Error {
  constructor(
    message: string,
    readonly reason: 'not_found' | 'conflict',
  ) {
    super(message);
    this.name = 'KeyRingError';
  }
}

export interface KeyRing {
  /** Loads the keys and brings the rotation up to date; called once at start (throws if the store fails). */
  start(): Promise<void>;
  /** The verification key for a kid; reloads (rate-limited) on an unknown kid. */
  lookup(kid: string): VerificationKey | undefined | Promise<VerificationKey | undefined>;
  /** The key that signs now. */
  signer(): Promise<Signer>;
  jwks(): Promise<JwksDocument>;
  list(): Promise<readonly SigningKeyRecord[]>;
  rotate(options: ManualRotation, actor: string): Promise<readonly SigningKeyRecord[]>;
  retire(kid: string, options: { delete?: boolean }, actor: string): Promise<readonly SigningKeyRecord[]>;
  /** Reloads from the store now (and applies due rotation steps). */
  sync(): Promise<void>;
  close(): void;
}

interface Loaded {
  readonly records: readonly SigningKeyRecord[];
  readonly verification: ReadonlyMap<string, VerificationKey>;
  readonly jwks: JwksDocument;
  readonly nextCheck: number;
  readonly loadedAt: number;
}

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { store, clock } = options;
  const hs256 = options.hs256Secret ? hs256Key(options.hs256Secret) : undefined;
  const policy: RotationPolicy = {
    // Tokens signed with HS256 still leave asymmetric keys in the JWKS (ES256), for OIDC and for
    // verifiers that prefer public keys; they simply do not sign access tokens.
    algorithm: options.algorithm === 'HS256' ? 'ES256' : options.algorithm,
    rotateEveryMs: options.rotateEveryMs,
    publishAheadMs: options.publishAheadMs,
    retainRetiredMs: options.retainRetiredMs,
  };
  let loaded: Loaded | undefined;
  let signerCache: { kid: string; signer: Promise<Signer> } | undefined;
  let lastUnknownReload = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const iso = (ms: number) => new Date(ms).toISOString();

  function index(records: readonly SigningKeyRecord[]): Loaded {
    const verification = new Map<string, VerificationKey>();
    for (const record of records) verification.set(record.kid, verificationKeyOf(record));
    if (hs256) verification.set(hs256.verification.kid, hs256.verification);
    // Next first, then active, then retired: what verifiers will need soonest is listed first.
    const order = { next: 0, active: 1, retired: 2 } as const;
    const keys = [...records].sort((a, b) => order[a.state] - order[b.state]).map((record) => record.publicJwk);
    return {
      records,
      verification,
      jwks: { keys, body: JSON.stringify({ keys }) },
      nextCheck: nextRotationCheck(records, policy),
      loadedAt: clock.now(),
    };
  }

  function install(records: readonly SigningKeyRecord[]): void {
    const previous = loaded;
    loaded = index(records);
    if (previous && options.onKeysRemoved) {
      const removed = [...previous.verification.keys()].filter((kid) => !loaded?.verification.has(kid));
      if (removed.length > 0) options.onKeysRemoved(removed);
    }
  }

  async function apply(transaction: SigningKeyTransaction, step: RotationStep, now: number, actor: string) {
    switch (step.kind) {
      case 'create': {
        const generated = await generateSigningKey(policy.algorithm);
        await transaction.insert({
          kid: generated.kid,
          alg: policy.algorithm,
          state: step.state,
          publicJwk: generated.publicJwk,
          privateJwkSealed: options.sealedBox.seal(generated.privateJwkJson, sealPurpose(generated.kid)),
          createdAt: iso(now),
          activatesAt: iso(step.activatesAt),
          activatedAt: step.state === 'active' ? iso(now) : null,
          retiredAt: null,
          deleteAfter: null,
        });
        options.onStep?.({ ...step, kid: generated.kid }, actor);
        return;
      }
      case 'activate':
        await transaction.update(step.kid, { state: 'active', activatedAt: iso(now) });
        break;
      case 'retire':
        await transaction.update(step.kid, {
          state: 'retired',
          retiredAt: iso(now),
          deleteAfter: iso(now + policy.retainRetiredMs),
        });
        break;
      case 'delete':
        await transaction.delete(step.kid);
        break;
    }
    options.onStep?.(step, actor);
  }

  /** Applies planned steps until none remain (a fresh active key may at once need a next one). */
  async function maintain(transaction: SigningKeyTransaction, now: number, actor: string): Promise<SigningKeyRecord[]> {
    for (let round = 0; round < 4; round++) {
      const records = await transaction.list();
      const steps = planRotation(records, now, policy);
      if (steps.length === 0) return records;
      // Retire before activating so that "one active key" holds at every statement.
      const ordered = [...steps].sort((a, b) => Number(b.kind === 'retire') - Number(a.kind === 'retire'));
      for (const step of ordered) await apply(transaction, step, now, actor);
    }
    return transaction.list();
  }

  async function reload(): Promise<void> {
    const now = clock.now();
    let records = await store.list();
    if (planRotation(records, now, policy).length > 0) {
      records = await store.withLock((transaction) => maintain(transaction, now, 'system'));
    }
    install(records);
  }

  /** One reload at a time; concurrent callers share it. */
  function refresh(): Promise<void> {
    inflight ??= reload().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function current(): Promise<Loaded> {
    const now = clock.now();
    if (!loaded || now >= loaded.nextCheck || now - loaded.loadedAt >= options.syncIntervalMs) {
      try {
        await refresh();
      } catch (error) {
        // Keep serving the keys we have; only a first load must succeed.
        if (!loaded) throw error;
        options.onError(error, 'reloading signing keys');
      }
    }
    return loaded as Loaded;
  }

  const timer = setInterval(() => {
    refresh().catch((error: unknown) => options.onError(error, 'reloading signing keys'));
  }, options.syncIntervalMs);
  timer.unref();

  async function locked<T>(work: (transaction: SigningKeyTransaction, now: number) => Promise<T>): Promise<T> {
    const result = await store.withLock((transaction) => work(transaction, clock.now()));
    install(await store.list());
    return result;
  }

  return {
    async start() {
      await refresh();
    },

    lookup(kid) {
      const key = loaded?.verification.get(kid);
      if (key) return key;
      const now = clock.now();
      if (now - lastUnknownReload < UNKNOWN_KID_RELOAD_MS) return undefined;
      lastUnknownReload = now;
      return refresh().then(
        () => loaded?.verification.get(kid),
        (error: unknown) => {
          options.onError(error, 'reloading signing keys for an unknown kid');
          return undefined;
        },
      );
    },

    async signer() {
      if (hs256 && options.algorithm === 'HS256') return hs256.signer;
      const state = await current();
      const active = state.records.find((record) => record.state === 'active');
      if (!active) throw new Error('no active signing key');
      if (signerCache?.kid !== active.kid) {
        const signer = openSigner(active, options.sealedBox);
        signerCache = { kid: active.kid, signer };
        signer.catch(() => {
          if (signerCache?.signer === signer) signerCache = undefined;
        });
      }
      return signerCache.signer;
    },

    async jwks() {
      return (await current()).jwks;
    },

    async list() {
      await refresh();
      return (loaded as Loaded).records;
    },

    async rotate({ immediate }, actor) {
      return locked(async (transaction, now) => {
        const records = await maintain(transaction, now, 'system');
        const active = records.find((record) => record.state === 'active');
        const next = records.find((record) => record.state === 'next');
        if (immediate) {
          // A suspected compromise: a key generated now signs from now on. A pending next key is
          // not promoted (it was made before the incident, and `--now` right after a scheduled
          // rotation would otherwise sign with a key the operator never asked to sign at once);
          // it never signed anything, so it simply goes. The old key stays published until its
          // tokens expire (`keys retire KID --delete` unpublishes it).
          if (next) await apply(transaction, { kind: 'delete', kid: next.kid }, now, actor);
          if (active) await apply(transaction, { kind: 'retire', kid: active.kid }, now, actor);
          await apply(transaction, { kind: 'create', state: 'active', activatesAt: now }, now, actor);
        } else if (!next) {
          await apply(
            transaction,
            { kind: 'create', state: 'next', activatesAt: now + policy.publishAheadMs },
            now,
            actor,
          );
        } else {
          // As soon as it has been published for publish_ahead, never sooner.
          const safe = Math.max(now, Date.parse(next.createdAt) + policy.publishAheadMs);
          if (safe < Date.parse(next.activatesAt ?? '')) await transaction.update(next.kid, { activatesAt: iso(safe) });
        }
        return transaction.list();
      });
    },

    async retire(kid, { delete: remove }, actor) {
      return locked(async (transaction, now) => {
        const records = await transaction.list();
        const target = records.find((record) => record.kid === kid);
        if (!target) throw new KeyRingError(`no signing key ${kid}`, 'not_found');
        if (target.state === 'retired' && !remove) {
          throw new KeyRingError(`signing key ${kid} is already retired`, 'conflict');
        }
        if (target.state === 'next') {
          // Never signed anything: it can simply go.
          await apply(transaction, { kind: 'delete', kid }, now, actor);
        } else {
          if (target.state === 'active') {
            // Something must sign from now on: the next key if there is one, else a new key.
            await apply(transaction, { kind: 'retire', kid }, now, actor);
            const next = records.find((record) => record.state === 'next');
            if (next) await apply(transaction, { kind: 'activate', kid: next.kid }, now, actor);
            else await apply(transaction, { kind: 'create', state: 'active', activatesAt: now }, now, actor);
          }
          if (remove) await apply(transaction, { kind: 'delete', kid }, now, actor);
        }
        return maintain(transaction, now, 'system');
      });
    },

    sync: refresh,

    close() {
      clearInterval(timer);
    },
  };
}
