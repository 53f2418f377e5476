/**
 * A Map with a size bound that evicts the least recently used entry. JavaScript Maps iterate in
 * insertion order, so re-inserting an entry on every read keeps the least recently used one first:
 * reads and writes stay O(1) and memory stays bounded however many distinct keys callers send
 * (an attacker inventing keys evicts only other entries of the same map).
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, marking it most recently used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** Stores the value as most recently used, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
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
    for (const [key, value] of this.#entries) {
      if (predicate(value, key)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
