import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./backoff.ts";

const policy = { baseMs: 500, maxMs: 30_000 };

describe("retry delays", () => {
  it("double each time, with jitter over the upper half, capped", () => {
    const highest = (attempt: number) => retryDelayMs(attempt, policy, () => 0.999_999);
    const lowest = (attempt: number) => retryDelayMs(attempt, policy, () => 0);
    expect([0, 1, 2, 3].map(highest)).toEqual([500, 1_000, 2_000, 4_000]);
    expect([0, 1, 2, 3].map(lowest)).toEqual([250, 500, 1_000, 2_000]);
    expect(highest(20)).toBe(30_000);
    expect(lowest(200)).toBe(15_000);
  });

  it("honours Retry-After up to the cap", () => {
    expect(retryDelayMs(0, policy, () => 0, 5_000)).toBe(5_000);
    expect(retryDelayMs(0, policy, () => 0, 120_000)).toBe(30_000);
  });
});
