import { describe, expect, it } from "vitest";
import { busTimeoutMs, deadlineMarginMs, deadlineMs } from "./deadline.ts";

describe("busTimeoutMs", () => {
  const now = 1_000_000;

  it("uses the configured timeout when the deadline is far or absent", () => {
    expect(busTimeoutMs({ deadline: now + 60_000, now, configuredMs: 5_000 })).toBe(5_000);
    expect(busTimeoutMs({ deadline: Number.POSITIVE_INFINITY, now, configuredMs: 5_000 })).toBe(5_000);
  });

  it("never exceeds the time left minus the margin", () => {
    expect(busTimeoutMs({ deadline: now + 2_000, now, configuredMs: 5_000 })).toBe(2_000 - deadlineMarginMs);
  });

  it("reports no time left when the deadline is (nearly) here", () => {
    expect(busTimeoutMs({ deadline: now + deadlineMarginMs, now, configuredMs: 5_000 })).toBeUndefined();
    expect(busTimeoutMs({ deadline: now - 10, now, configuredMs: 5_000 })).toBeUndefined();
  });

  it("reads grpc-js deadlines in either form", () => {
    expect(deadlineMs(new Date(1234))).toBe(1234);
    expect(deadlineMs(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
