/**
 * Successful authentications remembered for a few seconds, so that not every request costs a bus round
 * trip. Bounded (least recently used first out); keyed by hashes, never by a credential. A revoked token
 * or ended session stays usable on this replica for at most `ttlMs`.
 */

export interface AuthCacheOptions {
  /** 0 disables the cache. */
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

export class AuthCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(private readonly options: AuthCacheOptions) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.options.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Remembers `value` for the TTL, or until `notAfterMs` when that comes first. */
  set(key: string, value: T, notAfterMs = Number.POSITIVE_INFINITY): void {
    if (this.options.ttlMs <= 0) return;
    const expiresAt = Math.min(this.options.now() + this.options.ttlMs, notAfterMs);
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
