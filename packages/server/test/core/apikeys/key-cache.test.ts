/**
 * The verification cache (core/apikeys/key-cache.ts), driven by a manual clock: TTLs, negative
 * entries, invalidation races, single flight, bounds and the optional stale-if-error window.
 */
import { describe, expect, it } from 'vitest';
import { createKeyCache } from '../../../src/core/apikeys/key-cache.js';
import { manualClock } from '../../support/clock.js';

interface Value {
  readonly id: string;
}

const setup = (
  overrides: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number; staleIfErrorMs?: number } = {},
) => {
  const clock = manualClock();
  const cache = createKeyCache<Value>({ clock, ttlMs: 30_000, negativeTtlMs: 5000, maxEntries: 100, ...overrides });
  return { clock, cache };
};

const found = (id: string) => async () => ({ id });
const missing = async () => undefined;

describe('API key verification cache', () => {
  it('serves a found key from memory until its TTL, then asks the store again', async () => {
    const { clock, cache } = setup();
    expect(cache.peek('h1')).toBeUndefined();
    expect(await cache.load('h1', found('key_1'))).toEqual({ id: 'key_1' });
    clock.advance(29_999);
    expect(cache.peek('h1')).toEqual({ id: 'key_1' });
    clock.advance(1);
    expect(cache.peek('h1')).toBeUndefined();
    expect(cache.stats).toMatchObject({ lookups: 1, hits: 1 });
  });

  it('remembers unknown hashes for the shorter negative TTL', async () => {
    const { clock, cache } = setup();
    expect(await cache.load('nope', missing)).toBeNull();
    expect(cache.peek('nope')).toBeNull();
    clock.advance(5000);
    expect(cache.peek('nope')).toBeUndefined();
    expect(cache.stats.negativeHits).toBe(1);
  });

  it('forgets an unknown hash once a key with that hash exists', async () => {
    const { cache } = setup();
    await cache.load('h', missing);
    cache.forget('h');
    expect(cache.peek('h')).toBeUndefined();
  });

  it('caches nothing with TTLs of 0', async () => {
    const { cache } = setup({ ttlMs: 0, negativeTtlMs: 0 });
    await cache.load('h1', found('key_1'));
    await cache.load('h2', missing);
    expect(cache.peek('h1')).toBeUndefined();
    expect(cache.peek('h2')).toBeUndefined();
  });

  it('drops invalidated entries at once', async () => {
    const { cache } = setup();
    await cache.load('h1', found('key_1'));
    await cache.load('h2', found('key_2'));
    cache.invalidate((value) => value.id === 'key_1');
    expect(cache.peek('h1')).toBeUndefined();
    expect(cache.peek('h2')).toEqual({ id: 'key_2' });
  });

  it('does not let a lookup that started before an invalidation put the old record back', async () => {
    const { cache } = setup();
    let release: (value: Value) => void = () => {};
    const slow = cache.load('h1', () => new Promise<Value>((resolve) => (release = resolve)));
    cache.invalidate((value) => value.id === 'key_1'); // e.g. the key is revoked meanwhile
    release({ id: 'key_1' });
    expect(await slow).toEqual({ id: 'key_1' }); // the request that started earlier gets its answer…
    expect(cache.peek('h1')).toBeUndefined(); // …but it is not kept
  });

  it('shares one store query between concurrent lookups of a hash, but not across an invalidation', async () => {
    const { cache } = setup();
    let queries = 0;
    const loader = async () => {
      queries++;
      await new Promise((resolve) => setImmediate(resolve));
      return { id: 'key_1' };
    };
    await Promise.all([cache.load('h1', loader), cache.load('h1', loader), cache.load('h1', loader)]);
    expect(queries).toBe(1);
    const before = cache.load('h2', loader);
    cache.invalidate(() => true);
    const after = cache.load('h2', loader);
    await Promise.all([before, after]);
    expect(queries).toBe(3);
  });

  it('propagates store failures (fail closed) when no stale window is configured', async () => {
    const { clock, cache } = setup();
    await cache.load('h1', found('key_1'));
    clock.advance(30_000);
    await expect(cache.load('h1', () => Promise.reject(new Error('ECONNREFUSED')))).rejects.toThrow('ECONNREFUSED');
  });

  it('with stale-if-error, serves a known key while the store fails, within the window only', async () => {
    const { clock, cache } = setup({ staleIfErrorMs: 60_000 });
    await cache.load('h1', found('key_1'));
    await cache.load('nope', missing);
    clock.advance(30_000 + 59_999);
    const failing = () => Promise.reject(new Error('ECONNREFUSED'));
    expect(cache.peek('h1')).toBeUndefined(); // stale entries never answer while the store works
    expect(await cache.load('h1', failing)).toEqual({ id: 'key_1' });
    expect(cache.stats.staleServed).toBe(1);
    await expect(cache.load('nope', failing)).rejects.toThrow(); // never for unknown keys
    clock.advance(1);
    expect(cache.peek('h1')).toBeUndefined();
    await expect(cache.load('h1', failing)).rejects.toThrow();
  });

  it('keeps each map bounded, so a flood of unknown keys cannot evict known ones', async () => {
    const { cache } = setup({ maxEntries: 10 });
    for (let i = 0; i < 10; i++) await cache.load(`known-${i}`, found(`key_${i}`));
    for (let i = 0; i < 1000; i++) await cache.load(`unknown-${i}`, missing);
    expect(cache.size).toEqual({ found: 10, unknown: 10 });
    for (let i = 0; i < 10; i++) expect(cache.peek(`known-${i}`)).toEqual({ id: `key_${i}` });
    await cache.load('known-10', found('key_10')); // the least recently used known key goes
    expect(cache.peek('known-0')).toBeUndefined();
    expect(cache.peek('known-10')).toEqual({ id: 'key_10' });
  });
});
