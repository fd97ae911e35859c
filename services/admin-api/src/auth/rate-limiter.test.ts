import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.ts";

describe("RateLimiter", () => {
  it("allows a burst of perMinute, then refills continuously", () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.tryTake("a"))).toEqual([true, true, true, false]);
    expect(limiter.allows("a")).toBe(false);
    expect(limiter.retryAfterMs("a")).toBe(20_000);
    now += 20_000;
    expect(limiter.tryTake("a")).toBe(true);
    expect(limiter.tryTake("b")).toBe(true);
  });

  it("remembers at most maxKeys addresses, forgetting the least recently seen", () => {
    const limiter = new RateLimiter({ perMinute: 1, maxKeys: 2, now: () => 0 });
    limiter.tryTake("a");
    limiter.tryTake("b");
    limiter.allows("a");
    limiter.tryTake("c");
    expect(limiter.size).toBe(2);
    expect(limiter.allows("a")).toBe(false);
    expect(limiter.allows("b")).toBe(true);
  });
});
