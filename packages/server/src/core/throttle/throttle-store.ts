/**
 * Where the login throttle keeps its counters. In memory today (./memory-throttle-store.ts);
 * a shared backend (Redis: `HINCRBY` + `PEXPIRE` in a `MULTI`, `SET … PX` for familiar clients)
 * implements the same operations so several instances throttle together.
 *
 * `readNow` and `recallsNow` answer at once from this process's memory: they stand in front of
 * the Basic verification cache, whose hits must stay free of I/O. A shared backend must keep
 * what they read in memory too (its own writes and a subscription to the others'), or the
 * cache would answer clients another instance is holding back.
 */

export interface FailureRecord {
  /** Failures since the counter was last cleared or expired. */
  readonly failures: number;
  /** Clock time (ms) of the latest failure. */
  readonly lastFailureAt: number;
}

export interface ThrottleStore {
  /** The records of these keys, in order; undefined when absent or expired. */
  read(keys: readonly string[], now: number): Promise<Array<FailureRecord | undefined>>;
  /**
   * Atomically adds one failure to each key and answers the new records. A record expires
   * `ttlMs` after its latest failure.
   */
  addFailure(keys: readonly string[], now: number, ttlMs: number): Promise<FailureRecord[]>;
  clear(keys: readonly string[]): Promise<void>;
  /** Remembers `key` until `now + ttlMs` (familiar clients). */
  remember(key: string, now: number, ttlMs: number): Promise<void>;
  recalls(key: string, now: number): Promise<boolean>;
  /** `read`, answered synchronously from memory. */
  readNow(keys: readonly string[], now: number): Array<FailureRecord | undefined>;
  /** `recalls`, answered synchronously from memory. */
  recallsNow(key: string, now: number): boolean;
}
