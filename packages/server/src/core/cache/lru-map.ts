/**
 * A Map with a size bound that evicts (approximately) the least recently used entry. JavaScript
 * Maps iterate in insertion order, so re-inserting an entry when it is read keeps the least
 * recently used ones first. Re-inserting on *every* read would cost a delete and an insert per
 * hit on a hot path; instead an entry is moved only once it has drifted into the older half of
 * the map (more than maxEntries / 2 insertions ago), which keeps hot entries safe from eviction
 * at a fraction of the cost. Memory stays bounded however many distinct keys callers send (an
 * attacker inventing keys evicts only other entries of the same map).
 */
interface Slot<V> {
  value: V;
  /** The insertion counter when the entry was last (re)inserted. */
  tick: number;
}

export class LruMap<K, V> {
  readonly #entries = new Map<K, Slot<V>>();
  readonly #refreshAfter: number;
  #tick = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#refreshAfter = Math.floor(maxEntries / 2);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, marking it recently used. */
  get(key: K): V | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    if (this.#tick - slot.tick > this.#refreshAfter) {
      this.#entries.delete(key);
      slot.tick = ++this.#tick;
      this.#entries.set(key, slot);
    }
    return slot.value;
  }

  /** Stores the value as most recently used, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, tick: ++this.#tick });
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Removes every entry the predicate matches; O(n), for rare events such as invalidation. */
  deleteWhere(predicate: (value: V, key: K) => boolean): number {
    let removed = 0;
    for (const [key, slot] of this.#entries) {
      if (predicate(slot.value, key)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
