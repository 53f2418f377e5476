/**
 * Where the login throttle keeps its counters. In memory today (./memory-throttle-store.ts);
 * a shared backend (Redis: `HINCRBY` + `PEXPIRE` in a `MULTI`, `SET … PX` for familiar clients)
 * implements the same four operations so several instances throttle together.
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
}
