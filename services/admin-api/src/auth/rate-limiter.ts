/**
 * Token buckets per key (a client address), refilled continuously and held in an LRU map so memory
 * stays bounded however many addresses call: the least recently seen key is forgotten first, which at
 * worst hands an attacker rotating addresses a fresh bucket, never unbounded memory.
 */

export interface RateLimiterOptions {
  /** Tokens per minute, and the bucket's capacity (the burst allowed after a quiet minute). */
  perMinute: number;
  /** Keys remembered at most; default 10,000. */
  maxKeys?: number;
  /** Milliseconds clock, injectable so tests need no sleeping. */
  now: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimiterOptions) {
    if (!(options.perMinute > 0)) throw new RangeError("perMinute must be positive");
    this.refillPerMs = options.perMinute / 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes one token for `key`; false (nothing taken) when its bucket is empty. */
  tryTake(key: string): boolean {
    const bucket = this.bucket(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** True when `key` has a token left, without taking it. */
  allows(key: string): boolean {
    return this.bucket(key).tokens >= 1;
  }

  /** Milliseconds until `key` has a token again; 0 when it has one now. */
  retryAfterMs(key: string): number {
    const missing = 1 - this.bucket(key).tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.refillPerMs);
  }

  /** Keys remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  private bucket(key: string): Bucket {
    const now = this.options.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.tokens = Math.min(this.options.perMinute, bucket.tokens + elapsed * this.refillPerMs);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.options.perMinute, updatedAt: now };
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
