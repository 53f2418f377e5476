import { describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/core/cache/lru-map.js';

describe('LruMap', () => {
  it('never holds more than maxEntries, evicting the oldest insertion first', () => {
    const map = new LruMap<number, string>(3);
    for (let i = 0; i < 10; i++) map.set(i, `v${i}`);
    expect(map.size).toBe(3);
    expect([map.get(6), map.get(7), map.get(8), map.get(9)]).toEqual([undefined, 'v7', 'v8', 'v9']);
  });

  it('keeps an entry that is read while it ages into the older half', () => {
    const map = new LruMap<string, number>(10);
    map.set('hot', 1);
    for (let i = 0; i < 9; i++) map.set(`cold-${i}`, i);
    expect(map.get('hot')).toBe(1); // old enough: moved to the newest end
    for (let i = 0; i < 9; i++) map.set(`new-${i}`, i);
    expect(map.get('hot')).toBe(1);
    expect(map.get('cold-0')).toBeUndefined();
  });

  it('does not move recently inserted entries on every read (no churn on hot paths)', () => {
    const map = new LruMap<string, number>(10);
    map.set('a', 1);
    map.set('b', 2);
    for (let i = 0; i < 100; i++) map.get('a');
    map.set('c', 3);
    // Insertion order is unchanged: `a` is still the oldest, yet within the newer half.
    expect([...Array(8)].map((_, i) => map.set(`x${i}`, i))).toHaveLength(8);
    expect(map.get('a')).toBeUndefined();
    expect(map.get('b')).toBe(2);
  });

  it('deletes by predicate and clears', () => {
    const map = new LruMap<string, number>(10);
    for (let i = 0; i < 6; i++) map.set(`k${i}`, i);
    expect(map.deleteWhere((value) => value % 2 === 0)).toBe(3);
    expect(map.size).toBe(3);
    map.clear();
    expect(map.size).toBe(0);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
