/**
 * Token buckets per key (a client address, a token hash), refilled continuously, held in an LRU map so memory stays
 * bounded however many addresses call: the least recently seen key is forgotten first, which at worst
 * hands an attacker rotating through addresses a fresh bucket, never unbounded memory.
 */

export interface RateLimiterOptions {
  /** Tokens per minute; also the bucket's capacity (the burst allowed after a quiet minute). */
  perMinute: number;
  /** Keys remembered at most; default 10,000. */
  maxKeys?: number;
  /** Milliseconds clock; injectable so tests need no sleeping. Default `Date.now`. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions) {
    if (!(options.perMinute > 0)) throw new RangeError("perMinute must be positive");
    this.capacity = options.perMinute;
    this.refillPerMs = options.perMinute / 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `key`; false (nothing taken) when its bucket is empty. */
  tryTake(key: string): boolean {
    const bucket = this.bucket(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Takes one token if there is one, for events that have already happened (a failed authentication). */
  record(key: string): void {
    this.tryTake(key);
  }

  /** Gives back a token taken by `tryTake` (the call turned out not to count), up to the capacity. */
  refund(key: string): void {
    const bucket = this.bucket(key);
    bucket.tokens = Math.min(this.capacity, bucket.tokens + 1);
  }

  /** True when `key` has at least one token left, without taking it. */
  allows(key: string): boolean {
    return this.bucket(key).tokens >= 1;
  }

  /** Milliseconds until `key` has a token again; 0 when it has one now. */
  retryAfterMs(key: string): number {
    const missing = 1 - this.bucket(key).tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.refillPerMs);
  }

  /** How many keys are remembered (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }

  /** The refilled bucket for `key`, moved to the most recently used end. */
  private bucket(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.tokens = Math.min(this.capacity, bucket.tokens + elapsed * this.refillPerMs);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.capacity, updatedAt: now };
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (oldest.done) break;
        this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(key, bucket);
    return bucket;
  }
}
