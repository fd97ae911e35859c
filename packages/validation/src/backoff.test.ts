import { describe, expect, it } from "vitest";
import { backoffBound, backoffDelay, sleep } from "./backoff.ts";

const policy = { initialDelayMs: 500, maxDelayMs: 30_000 };

describe("retry delays", () => {
  it("double each time, with jitter over the upper half, capped", () => {
    const highest = (attempt: number) => backoffDelay(attempt, policy, () => 0.999_999);
    const lowest = (attempt: number) => backoffDelay(attempt, policy, () => 0);
    expect([0, 1, 2, 3].map(highest)).toEqual([500, 1_000, 2_000, 4_000]);
    expect([0, 1, 2, 3].map(lowest)).toEqual([250, 500, 1_000, 2_000]);
    expect(highest(20)).toBe(30_000);
    expect(lowest(200)).toBe(15_000);
  });

  it("honours Retry-After up to the cap", () => {
    expect(backoffDelay(0, policy, () => 0, 5_000)).toBe(5_000);
    expect(backoffDelay(0, policy, () => 0, 120_000)).toBe(30_000);
  });

  it("bound without jitter: the vault's reconnect delays in seconds", () => {
    const seconds = (attempt: number) =>
      backoffBound(attempt, { initialDelayMs: 50, maxDelayMs: 500 }) / 1000;
    expect([0, 1, 2, 3, 4, 40].map(seconds)).toEqual([0.05, 0.1, 0.2, 0.4, 0.5, 0.5]);
  });
});

describe("sleep", () => {
  it("ends early when its signal aborts, without throwing", async () => {
    const abort = new AbortController();
    const started = performance.now();
    const slept = sleep(10_000, abort.signal);
    abort.abort();
    await slept;
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("resolves at once for a signal already aborted", async () => {
    await expect(sleep(10_000, AbortSignal.abort())).resolves.toBeUndefined();
  });
});
