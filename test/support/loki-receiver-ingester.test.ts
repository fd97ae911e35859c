/**
 * The stand-in's ingester and limits, as Loki's source has them (see loki-receiver.ts): the last stream's
 * error only, rate limits per tenant and per stream, the forwarded-message size, and retries that are
 * not idempotent outside the out-of-order window.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LokiLimits } from "./loki-limits.ts";
import { type LokiReceiver, LokiVersion, startLokiReceiver } from "./loki-receiver.ts";

const start = Date.UTC(2025, 0, 17, 12, 0, 0);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const minute = 60_000;
const app = { service: "secrets-service", env: "test" };
const labels = (event: string) => ({ ...app, event });

let loki: LokiReceiver;
let clock = start;
afterEach(async () => {
  await loki?.stop();
});

async function receiver(
  limits: Partial<LokiLimits> | false = false,
  version: LokiVersion = LokiVersion.v3_5,
) {
  clock = start;
  loki = await startLokiReceiver({ now: () => clock, limits, version });
}

function push(...streams: { stream: Record<string, string>; values: [string, string][] }[]) {
  return fetch(`${loki.url}/loki/api/v1/push`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ streams }),
  });
}
const lines = () => loki.entries().map((entry) => entry.line);

describe("Loki stand-in: the ingester", () => {
  it("returns only the last stream's error: an earlier refused stream comes back 204", async () => {
    await receiver();
    await push({ stream: labels("a"), values: [[ns(start), "a-newest"]] });
    const hidden = await push(
      { stream: labels("a"), values: [[ns(start - 61 * minute), "a-too-far-behind"]] },
      { stream: labels("b"), values: [[ns(start), "b-fine"]] },
    );
    expect(hidden.status).toBe(204);
    expect(lines()).toEqual(["a-newest", "b-fine"]);
    const shown = await push(
      { stream: labels("b"), values: [[ns(start), "b-again"]] },
      { stream: labels("a"), values: [[ns(start - 62 * minute), "a-refused"]] },
    );
    expect(shown.status).toBe(400);
    expect(await shown.text()).toMatch(/entry too far behind.*\n.*total ignored: 1 out of 1 for stream/s);
    expect(lines()).toEqual(["a-newest", "b-fine", "b-again"]);
  });

  it("skips a repeat of the stream's last entry but refuses an old stored entry pushed again", async () => {
    await receiver();
    expect((await push({ stream: labels("a"), values: [[ns(start - 90 * minute), "first"]] })).status).toBe(
      204,
    );
    expect((await push({ stream: labels("a"), values: [[ns(start), "second"]] })).status).toBe(204);
    expect((await push({ stream: labels("a"), values: [[ns(start), "second"]] })).status).toBe(204);
    // Stored, but now more than an hour behind the newest: a retry of it is refused.
    const retried = await push({ stream: labels("a"), values: [[ns(start - 90 * minute), "first"]] });
    expect(retried.status).toBe(400);
    expect(lines()).toEqual(["first", "second"]);
  });

  it("adds service_name in 3.x mode only", async () => {
    await receiver(false, LokiVersion.v2_9);
    await push({ stream: labels("a"), values: [[ns(start), "x"]] });
    expect(loki.entries()[0]?.labels).toEqual(labels("a"));
    await loki.stop();
    await receiver(false, LokiVersion.v3_5);
    await push({ stream: labels("a"), values: [[ns(start), "x"]] }, { stream: { job: "j" }, values: [] });
    await push({ stream: { app: "" }, values: [[ns(start), "y"]] });
    expect(loki.entries().map((entry) => entry.labels)).toEqual([
      { ...labels("a"), service_name: "secrets-service" },
      { app: "", service_name: "unknown_service" },
    ]);
  });
});

describe("Loki stand-in: limits", () => {
  it("refuses a push over the tenant's burst for good, and one over its rate until tokens refill", async () => {
    await receiver({ ingestionRateBytes: 1_000, ingestionBurstBytes: 2_000 });
    const big = { stream: labels("a"), values: [[ns(start), "x".repeat(2_001)]] as [string, string][] };
    const refused = await push(big);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/Ingestion rate limit exceeded for user fake/);
    clock += 60 * minute;
    expect((await push(big)).status).toBe(429);
    const half = (line: string) => ({
      stream: labels("a"),
      values: [[ns(clock), line]] as [string, string][],
    });
    expect((await push(half("a".repeat(1_500)))).status).toBe(204);
    expect((await push(half("b".repeat(1_000)))).status).toBe(429);
    clock += 1_000;
    expect((await push(half("c".repeat(1_000)))).status).toBe(204);
    expect(lines().map((line) => line[0])).toEqual(["a", "c"]);
  });

  it("refuses entries over a stream's rate limit with 429, hidden when another stream comes last", async () => {
    await receiver({ perStreamRateBytes: 100, perStreamBurstBytes: 300 });
    const entries = (prefix: string) =>
      [0, 1, 2, 3].map((i) => [ns(start + i), `${prefix}${i}`.padEnd(100, ".")] as [string, string]);
    const limited = await push({ stream: labels("a"), values: entries("a") });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toMatch(/Per stream rate limit exceeded/);
    const hidden = await push(
      { stream: labels("b"), values: entries("b") },
      { stream: labels("c"), values: [[ns(start), "c"]] },
    );
    expect(hidden.status).toBe(204);
    expect(lines().map((line) => line.slice(0, 2))).toEqual(["a0", "a1", "a2", "b0", "b1", "b2", "c"]);
  });

  it("fails a push forwarded as a message over 4 MiB with 500, storing nothing", async () => {
    await receiver({});
    const line = "x".repeat(200_000);
    const values = Array.from({ length: 22 }, (_, i) => [ns(start + i), `${i}${line}`] as [string, string]);
    const response = await push({ stream: labels("a"), values });
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/ResourceExhausted.*larger than max/);
    expect(lines()).toEqual([]);
    // The tenant's tokens were taken before the forward failed, as in Loki's distributor.
    expect((await push({ stream: labels("a"), values: values.slice(0, 10) })).status).toBe(429);
    clock += 1_000;
    expect((await push({ stream: labels("a"), values: values.slice(0, 10) })).status).toBe(204);
  });
});
