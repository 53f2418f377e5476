/**
 * The access-token denylist (issue 5 item 7): by `jti` (one token), by subject (every token of a
 * user issued until now) or by client. Entries live until every token they concern has expired.
 * The hot path reads an in-memory copy: three map lookups, no store. Each instance reloads the
 * copy every `tokens.sync_interval`, so a revocation made on another instance applies within that
 * delay; one made here applies at once. If the store is down the last copy stays in force.
 */
import type { Clock } from '../audit/audit.js';

export type RevocationKind = 'jti' | 'subject' | 'client';

export interface Revocation {
  readonly kind: RevocationKind;
  readonly value: string;
  /** ISO time; for subject/client, tokens issued (iat) at or before it are revoked. */
  readonly revokedAt: string;
  /** ISO time after which no token concerned can still be valid. */
  readonly expiresAt: string;
}

export interface RevocationStore {
  /** Entries not yet expired at `now` (ISO). */
  listActive(now: string): Promise<Revocation[]>;
  /** Adds an entry, or widens an existing one (later revokedAt/expiresAt win). */
  upsert(revocation: Revocation): Promise<void>;
  /** Deletes entries expired at `now`; answers how many. */
  purgeExpired(now: string): Promise<number>;
}

/** The claims a revocation check needs. */
export interface RevocationSubject {
  readonly jti?: unknown;
  readonly sub?: unknown;
  readonly client_id?: unknown;
  readonly iat?: unknown;
}

export interface Denylist {
  start(): Promise<void>;
  isRevoked(claims: RevocationSubject): boolean;
  revoke(revocation: Omit<Revocation, 'revokedAt'> & { revokedAt?: string }): Promise<void>;
  /** Listeners told of each revocation applied here (the verified-token cache drops matches). */
  onRevoked(listener: (revocation: Revocation) => void): void;
  sync(): Promise<void>;
  close(): void;
}

export interface DenylistOptions {
  readonly store: RevocationStore;
  readonly clock: Clock;
  readonly syncIntervalMs: number;
  readonly onError: (error: unknown, context: string) => void;
}

interface Snapshot {
  readonly jtis: ReadonlySet<string>;
  /** Seconds: tokens with iat ≤ this are revoked. */
  readonly subjects: ReadonlyMap<string, number>;
  readonly clients: ReadonlyMap<string, number>;
}

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

export function createDenylist(options: DenylistOptions): Denylist {
  const { store, clock } = options;
  let snapshot: Snapshot = { jtis: new Set(), subjects: new Map(), clients: new Map() };
  const listeners: Array<(revocation: Revocation) => void> = [];
  let inflight: Promise<void> | undefined;

  function build(entries: readonly Revocation[]): Snapshot {
    const jtis = new Set<string>();
    const subjects = new Map<string, number>();
    const clients = new Map<string, number>();
    for (const entry of entries) {
      if (entry.kind === 'jti') jtis.add(entry.value);
      else {
        const map = entry.kind === 'subject' ? subjects : clients;
        map.set(entry.value, Math.max(map.get(entry.value) ?? 0, seconds(entry.revokedAt)));
      }
    }
    return { jtis, subjects, clients };
  }

  function sync(): Promise<void> {
    inflight ??= (async () => {
      const now = new Date(clock.now()).toISOString();
      await store.purgeExpired(now);
      snapshot = build(await store.listActive(now));
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const timer = setInterval(() => {
    sync().catch((error: unknown) => options.onError(error, 'reloading the token denylist'));
  }, options.syncIntervalMs);
  timer.unref();

  const revokedBefore = (map: ReadonlyMap<string, number>, key: unknown, iat: unknown): boolean => {
    if (typeof key !== 'string') return false;
    const before = map.get(key);
    if (before === undefined) return false;
    // Without a numeric iat the token's age is unknown: fail closed.
    return typeof iat !== 'number' || iat <= before;
  };

  return {
    start: sync,
    isRevoked(claims) {
      const current = snapshot;
      if (typeof claims.jti === 'string' && current.jtis.has(claims.jti)) return true;
      return (
        revokedBefore(current.subjects, claims.sub, claims.iat) ||
        revokedBefore(current.clients, claims.client_id, claims.iat)
      );
    },
    async revoke(input) {
      const revocation: Revocation = { ...input, revokedAt: input.revokedAt ?? new Date(clock.now()).toISOString() };
      await store.upsert(revocation);
      // Apply locally at once, without waiting for the next sync.
      const jtis = new Set(snapshot.jtis);
      const subjects = new Map(snapshot.subjects);
      const clients = new Map(snapshot.clients);
      if (revocation.kind === 'jti') jtis.add(revocation.value);
      else {
        const map = revocation.kind === 'subject' ? subjects : clients;
        map.set(revocation.value, Math.max(map.get(revocation.value) ?? 0, seconds(revocation.revokedAt)));
      }
      snapshot = { jtis, subjects, clients };
      for (const listener of listeners) listener(revocation);
    },
    onRevoked(listener) {
      listeners.push(listener);
    },
    sync,
    close() {
      clearInterval(timer);
    },
  };
}
