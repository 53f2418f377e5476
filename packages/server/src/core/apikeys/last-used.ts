/**
 * `last_used_at`, written in batches: a verification only notes the time in memory, and a timer
 * writes one UPDATE per key used since the last flush. A key verified 10 000 times a second costs
 * one write every `intervalMs`, not 10 000. When the store is unreachable the times are kept and
 * merged into the next flush; the map holds one entry per key in use, so it stays bounded.
 */
import type { ApiKeyStore } from './model.js';

export interface LastUsedRecorder {
  /** Notes that the key was used at `nowMs` (cheap: one Map write). */
  touch(id: string, nowMs: number): void;
  /** Writes what is pending. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
}

export interface LastUsedOptions {
  readonly store: Pick<ApiKeyStore, 'recordLastUsed'>;
  readonly intervalMs: number;
  readonly onError?: (error: unknown, pending: number) => void;
}

export function createLastUsedRecorder(options: LastUsedOptions): LastUsedRecorder {
  let pending = new Map<string, number>();
  let flushing: Promise<void> | null = null;

  const flush = (): Promise<void> => {
    if (flushing) return flushing;
    if (pending.size === 0) return Promise.resolve();
    const batch = pending;
    pending = new Map();
    flushing = (async () => {
      try {
        const times = new Map<string, string>();
        for (const [id, at] of batch) times.set(id, new Date(at).toISOString());
        await options.store.recordLastUsed(times);
      } catch (error) {
        // Keep the latest time per key for the next attempt.
        for (const [id, at] of batch) if ((pending.get(id) ?? 0) < at) pending.set(id, at);
        options.onError?.(error, pending.size);
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  };

  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();

  return {
    touch(id, nowMs) {
      pending.set(id, nowMs);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
