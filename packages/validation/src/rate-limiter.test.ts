import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.ts";

function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("RateLimiter", () => {
  it("allows a burst of perMinute, then refills continuously", () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ perMinute: 6, now: clock.now });
    for (let i = 0; i < 6; i++) expect(limiter.tryTake("a")).toBe(true);
    expect(limiter.tryTake("a")).toBe(false);
    expect(limiter.retryAfterMs("a")).toBe(10_000);
    clock.advance(9_999);
    expect(limiter.tryTake("a")).toBe(false);
    clock.advance(1);
    expect(limiter.tryTake("a")).toBe(true);
    clock.advance(10 * 60_000);
    for (let i = 0; i < 6; i++) expect(limiter.tryTake("a")).toBe(true);
    expect(limiter.tryTake("a")).toBe(false);
  });

  it("keeps a bucket per key", () => {
    const limiter = new RateLimiter({ perMinute: 1, now: manualClock().now });
    expect(limiter.tryTake("a")).toBe(true);
    expect(limiter.tryTake("a")).toBe(false);
    expect(limiter.tryTake("b")).toBe(true);
  });

  it("records events and answers whether a key has budget left without spending it", () => {
    const limiter = new RateLimiter({ perMinute: 2, now: manualClock().now });
    expect(limiter.allows("a")).toBe(true);
    limiter.record("a");
    expect(limiter.allows("a")).toBe(true);
    limiter.record("a");
    limiter.record("a"); // already empty: nothing more to take
    expect(limiter.allows("a")).toBe(false);
  });

  it("stays within maxKeys, forgetting the least recently used key", () => {
    const limiter = new RateLimiter({ perMinute: 1, maxKeys: 3, now: manualClock().now });
    for (const key of ["a", "b", "c"]) limiter.tryTake(key);
    limiter.allows("a"); // a is now the most recently used
    limiter.tryTake("d"); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.allows("a")).toBe(false); // remembered: still empty
    expect(limiter.allows("b")).toBe(true); // forgotten: a fresh bucket
    for (let i = 0; i < 50_000; i++) limiter.tryTake(`peer-${i}`);
    expect(limiter.size).toBe(3);
  });
});
