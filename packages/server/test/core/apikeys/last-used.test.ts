import { describe, expect, it } from 'vitest';
import { createLastUsedRecorder } from '../../../src/core/apikeys/last-used.js';

/** Records each batch the recorder writes; can be told to fail like an unreachable store. */
function recordingStore() {
  const batches: Array<Map<string, string>> = [];
  let failing = false;
  return {
    batches,
    fail(value: boolean) {
      failing = value;
    },
    async recordLastUsed(times: ReadonlyMap<string, string>) {
      if (failing) throw new Error('ECONNREFUSED');
      batches.push(new Map(times));
    },
  };
}

describe('batched last_used_at', () => {
  it('writes one time per key per flush, the latest, however many verifications there were', async () => {
    const store = recordingStore();
    const recorder = createLastUsedRecorder({ store, intervalMs: 60_000 });
    for (let i = 0; i < 10_000; i++) recorder.touch(i % 2 ? 'key_a' : 'key_b', 1_000_000 + i);
    await recorder.flush();
    expect(store.batches).toEqual([
      new Map([
        ['key_b', new Date(1_000_000 + 9998).toISOString()],
        ['key_a', new Date(1_000_000 + 9999).toISOString()],
      ]),
    ]);
    await recorder.flush();
    expect(store.batches).toHaveLength(1); // nothing new, nothing written
    await recorder.close();
  });

  it('keeps the times while the store fails and writes them, merged, on the next flush', async () => {
    const store = recordingStore();
    const errors: number[] = [];
    const recorder = createLastUsedRecorder({
      store,
      intervalMs: 60_000,
      onError: (_e, pending) => errors.push(pending),
    });
    recorder.touch('key_a', 1000);
    store.fail(true);
    await recorder.flush();
    expect(errors).toEqual([1]);
    recorder.touch('key_b', 2000);
    store.fail(false);
    await recorder.close();
    expect(store.batches).toEqual([
      new Map([
        ['key_a', new Date(1000).toISOString()],
        ['key_b', new Date(2000).toISOString()],
      ]),
    ]);
  });
});
