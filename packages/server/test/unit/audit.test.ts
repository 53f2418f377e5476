/** Audit aggregation: an attacker's failures cannot become one stored row each. */
import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditStore, createAuditLog } from '../../src/core/audit/audit.js';

function memoryStore(): AuditStore & { events: AuditEvent[]; failNext: boolean } {
  const store = {
    events: [] as AuditEvent[],
    failNext: false,
    async append(events: readonly AuditEvent[]) {
      if (store.failNext) {
        store.failNext = false;
        throw new Error('store down');
      }
      store.events.push(...events);
    },
    async list() {
      return { events: store.events, nextCursor: null };
    },
  };
  return store;
}

describe('audit log', () => {
  it('keeps a few failures per window in full and summarises the rest', async () => {
    let now = 0;
    const store = memoryStore();
    let id = 0;
    const audit = createAuditLog({
      store,
      clock: { now: () => now },
      newId: () => `evt_${id++}`,
      samplesPerWindow: 3,
      failureWindowMs: 1000,
    });
    for (let i = 0; i < 1000; i++) audit.recordFailure({ method: 'apikey', reason: 'unknown', ip: '10.0.0.1' });
    now = 1500;
    await audit.flush();
    expect(store.events.filter((event) => event.action === 'auth.failed')).toHaveLength(3);
    const summary = store.events.find((event) => event.action === 'auth.failed.summary');
    expect(summary?.details).toMatchObject({ method: 'apikey', reason: 'unknown', count: 1000, suppressed: 997 });
    await audit.close();
  });

  it('keeps events buffered when the store is down and writes them once it is back', async () => {
    const store = memoryStore();
    const errors: number[] = [];
    const audit = createAuditLog({ store, newId: () => 'evt_x', onError: (_error, pending) => errors.push(pending) });
    audit.record({ actor: 'admin:adm_1', action: 'apikey.created', target: 'key_1' });
    store.failNext = true;
    await audit.flush();
    expect(store.events).toHaveLength(0);
    expect(errors).toEqual([1]);
    await audit.flush();
    expect(store.events.map((event) => event.action)).toEqual(['apikey.created']);
    await audit.close();
  });
});
