/**
 * The in-process `ThrottleStore`: two maps with expiry, bounded in size. Insertion order is
 * refreshed on every write, so the oldest entries sit at the front: expired ones are swept from
 * there, and when the bound is reached the least recently written one is dropped (an attacker
 * spraying usernames can push out old counters, but the per-IP counter still holds them back).
 */
import type { FailureRecord, ThrottleStore } from './throttle-store.js';

interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

class ExpiringMap<T> {
  private readonly entries = new Map<string, Expiring<T>>();
  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, expiresAt: number, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    this.sweep(now);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}

export function createMemoryThrottleStore(options: { maxEntries?: number } = {}): ThrottleStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const failures = new ExpiringMap<FailureRecord>(maxEntries);
  const familiar = new ExpiringMap<true>(maxEntries);
  const readNow = (keys: readonly string[], now: number) => keys.map((key) => failures.get(key, now));
  const recallsNow = (key: string, now: number) => familiar.get(key, now) === true;
  return {
    readNow,
    recallsNow,
    async read(keys, now) {
      return readNow(keys, now);
    },
    async addFailure(keys, now, ttlMs) {
      return keys.map((key) => {
        const record = { failures: (failures.get(key, now)?.failures ?? 0) + 1, lastFailureAt: now };
        failures.set(key, record, now + ttlMs, now);
        return record;
      });
    },
    async clear(keys) {
      for (const key of keys) failures.delete(key);
    },
    async remember(key, now, ttlMs) {
      familiar.set(key, true, now + ttlMs, now);
    },
    async recalls(key, now) {
      return recallsNow(key, now);
    },
  };
}
