import { AuditEvent } from "@secrets/proto/audit";
import { type LokiReceiver, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLokiSink } from "./loki-sink.ts";

let loki: LokiReceiver;
beforeEach(async () => {
  loki = await startLokiReceiver();
});
afterEach(async () => {
  await loki.stop();
});

const hourMs = 60 * 60 * 1000;
const event = (id: string, timestampMs: number, name = "token.approve") =>
  AuditEvent.fromPartial({ id, timestampMs, event: name, success: true, actor: "admin" });
const sink = (url = loki.url) =>
  createLokiSink({ connection: { url, timeoutMs: 1_000 }, environment: "test", gzip: true });
const stored = () => loki.entries().map((e) => [JSON.parse(e.line).event_id, e.labels.late_hour ?? ""]);

describe("Loki sink: an event refused as too far behind or too old", () => {
  it("counts as delivered when Loki holds it already (a retry of a push whose answer was lost)", async () => {
    const now = Date.now();
    const first = event("e1", now - 2 * hourMs);
    expect(await sink().write([first])).toEqual({ status: "accepted" });
    expect(await sink().write([event("e2", now)])).toEqual({ status: "accepted" });
    const retried = await sink().write([first]);
    expect(retried).toMatchObject({ status: "refused", reason: expect.stringMatching(/too far behind/) });
    const reason = retried.status === "refused" ? retried.reason : "";
    expect(await sink().reconsider?.(first, reason)).toEqual({ status: "accepted" });
    expect(stored()).toEqual([
      ["e1", ""],
      ["e2", ""],
    ]);
  });

  it("goes to a late stream of its hour when Loki does not hold it, found by the usual queries", async () => {
    const now = Date.now();
    await sink().write([event("new", now)]);
    const late = event("late", now - 3 * hourMs);
    const refused = await sink().write([late]);
    const reason = refused.status === "refused" ? refused.reason : "";
    expect(reason).toMatch(/too far behind/);
    expect(await sink().reconsider?.(late, reason)).toEqual({ status: "accepted" });
    const hour = new Date(late.timestampMs).toISOString().slice(0, 13);
    expect(stored()).toEqual([
      ["new", ""],
      ["late", hour],
    ]);
    // Asked again (a redelivery), it is found and not stored twice.
    expect(await sink().reconsider?.(late, reason)).toEqual({ status: "accepted" });
    expect(stored()).toHaveLength(2);
  });

  it("is refused (parked) when too old and not stored, and retried when Loki cannot be asked", async () => {
    const ancient = event("old", Date.now() - 8 * 24 * hourMs);
    const refused = await sink().write([ancient]);
    const reason = refused.status === "refused" ? refused.reason : "";
    expect(await sink().reconsider?.(ancient, reason)).toEqual({ status: "refused", reason });
    await loki.stop();
    expect(await sink().reconsider?.(ancient, reason)).toMatchObject({ status: "retry" });
    expect(await sink().reconsider?.(ancient, "Loki answered 400: line too long")).toMatchObject({
      status: "refused",
    });
  });
});
