/**
 * A bounded cache of database lookups whose entries live `ttlMs` at most and can be dropped at any time.
 *
 * The race it closes: a lookup that read the database before a change committed must not store its
 * (now stale) answer after the change's invalidation arrived. Every invalidation bumps a generation; a
 * load stores its answer only if no invalidation happened while it ran, and concurrent misses of one key
 * share one load only within a generation. Invalidations are rare (admin actions), so one generation for
 * the whole cache costs a few extra loads at most.
 */

export interface TtlCacheOptions {
  /** How long an entry is served; 0 disables the cache (every lookup loads). */
  ttlMs: number;
  /** Entries kept at most; the oldest goes first. */
  maxEntries: number;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V | undefined>>();
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly options: TtlCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, if fresh. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /**
   * The cached value, or `load()`'s answer, stored unless an invalidation happened meanwhile. Undefined
   * answers (nothing found) are not stored: what does not exist yet is looked up again next time.
   */
  getOrLoad(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    if (this.options.ttlMs <= 0) return load();
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (value !== undefined && generation === this.generation) this.store(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  /**
   * Loads, in one go, the keys that are neither cached nor being loaded, and stores what `load` found
   * unless an invalidation happened meanwhile. For a batch of lookups: one query instead of one per key.
   */
  async loadMany(keys: readonly K[], load: (missing: K[]) => Promise<Map<K, V>>): Promise<void> {
    if (this.options.ttlMs <= 0) return;
    const missing = keys.filter((key) => this.get(key) === undefined && !this.loading.has(key));
    if (missing.length === 0) return;
    const generation = this.generation;
    const found = await load(missing);
    if (generation !== this.generation) return;
    for (const [key, value] of found) this.store(key, value);
  }

  /** Stores a value read just now (after a write by this process), unless caching is off. */
  set(key: K, value: V): void {
    if (this.options.ttlMs > 0) this.store(key, value);
  }

  /** Drops one entry, and makes loads under way not store what they read. */
  delete(key: K): void {
    this.invalidated();
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches. */
  deleteWhere(matches: (value: V, key: K) => boolean): void {
    this.invalidated();
    for (const [key, entry] of this.entries) if (matches(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.invalidated();
    this.entries.clear();
  }

  private invalidated(): void {
    this.generation += 1;
    // Loads under way may have read the old state: later misses must not join them.
    this.loading.clear();
  }

  private store(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
  }
}
