import { silentLogger } from "@secrets/logger";
import type { ThrottledCalls } from "@secrets/proto/vault";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBus } from "./memory-bus.ts";
import { serviceOperations } from "./operations.ts";
import { createThrottleReport } from "./throttle-report.ts";
import { serve } from "./typed.ts";

function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const hash = "a".repeat(64);
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

function setup(options: { maxEntries?: number; failing?: boolean } = {}) {
  const bus = new MemoryBus({ namespace: "throttle", logger: silentLogger, closeGraceMs: 50 });
  const reports: ThrottledCalls[][] = [];
  let failing = options.failing ?? false;
  serve(bus, serviceOperations.reportThrottled, { queue: "vault" }, async (request) => {
    if (failing) throw new Error("vault away");
    reports.push(request.entries);
    return {};
  });
  const clock = manualClock();
  const report = createThrottleReport({
    bus,
    operation: serviceOperations.reportThrottled,
    logger: silentLogger,
    now: clock.now,
    quietMs: 2_000,
    maxWindowMs: 60_000,
    ...(options.maxEntries ? { maxEntries: options.maxEntries } : {}),
  });
  closers.push(() => report.close());
  return { report, reports, clock, recover: () => (failing = false) };
}

describe("throttle report", () => {
  it("sends a burst as one summary once it pauses", async () => {
    const { report, reports, clock } = setup();
    for (let i = 0; i < 70; i++) {
      report.count("GetSecret", "token", hash, "10.0.0.1");
      clock.advance(10);
    }
    await report.flush();
    expect(reports).toHaveLength(0); // still going on
    clock.advance(2_000);
    await report.flush();
    expect(reports).toEqual([
      [
        {
          method: "GetSecret",
          budget: "token",
          token: `sha256_${hash}`,
          ipAddress: "10.0.0.1",
          count: 70,
          firstMs: 1_700_000_000_000,
          lastMs: 1_700_000_000_690,
        },
      ],
    ]);
  });

  it("sends a summary that never pauses once it is a window old", async () => {
    const { report, reports, clock } = setup();
    for (let i = 0; i < 61; i++) {
      report.count("RegisterToken", "address", "", "10.0.0.1");
      clock.advance(1_000);
    }
    await report.flush();
    expect(reports.flat().map((entry) => entry.count)).toEqual([61]);
  });

  it("bounds what it keeps: past the limit, refusals are counted per method and budget", async () => {
    const { report, reports, clock } = setup({ maxEntries: 2 });
    for (let i = 0; i < 5; i++) report.count("GetSecret", "address", "", `10.0.0.${i}`);
    clock.advance(2_000);
    await report.flush();
    const entries = reports.flat();
    expect(entries).toHaveLength(3);
    expect(entries.reduce((sum, entry) => sum + entry.count, 0)).toBe(5);
    expect(entries.find((entry) => entry.ipAddress === "")?.count).toBe(3);
  });

  it("keeps the summaries when the vault is away and sends them later", async () => {
    const { report, reports, clock, recover } = setup({ failing: true });
    report.count("GetSecret", "address", "", "10.0.0.1");
    clock.advance(2_000);
    await report.flush();
    expect(reports).toHaveLength(0);
    recover();
    await report.flush();
    expect(reports.flat().map((entry) => entry.count)).toEqual([1]);
  });
});
