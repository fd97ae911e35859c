import { AuditEvent } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import { entryBytes, lokiPushBody, lokiPushParts, lokiTimestamp } from "./loki-push.ts";

const event = (id: string, timestampMs: number, name = "secret.get") =>
  AuditEvent.fromPartial({ id, timestampMs, event: name, success: true, secretName: "DB_URL" });

describe("Loki push body", () => {
  it("writes exact nanosecond strings", () => {
    expect(lokiTimestamp(1_737_110_400_123)).toBe("1737110400123000000");
    expect(lokiTimestamp(0)).toBe("0");
  });

  it("has one stream per event name with only the static labels, entries in time order", () => {
    const body = lokiPushBody(
      [event("b", 2_000), event("t", 1_500, "token.register"), event("a", 1_000), event("c", 2_000)],
      "staging",
    );
    expect(body.streams.map((s) => s.stream)).toEqual([
      { service: "secrets-service", env: "staging", event: "secret.get" },
      { service: "secrets-service", env: "staging", event: "token.register" },
    ]);
    const ids = body.streams[0]?.values.map(([, line]) => JSON.parse(line).event_id);
    expect(ids).toEqual(["a", "b", "c"]);
    expect(body.streams[0]?.values[0]?.[0]).toBe("1000000000");
    const line = JSON.parse(body.streams[0]?.values[0]?.[1] ?? "{}");
    expect(line).toMatchObject({ event_id: "a", secret_name: "DB_URL", service: "secrets-service" });
  });

  it("is identical for a redelivered event, so Loki keeps one copy", () => {
    expect(lokiPushBody([event("a", 1_000)], "p")).toEqual(lokiPushBody([event("a", 1_000)], "p"));
  });

  it("cuts a batch into parts of one stream each, oldest first, within the byte cap and time span", () => {
    const at = 1_737_110_400_000;
    const events = [
      event("g1", at),
      event("t1", at + 1, "token.register"),
      event("g2", at + 2),
      event("g3", at + 3),
      event("g0", at - 1),
    ];
    const size = entryBytes(events[0] as AuditEvent);
    const ids = (parts: AuditEvent[][]) => parts.map((part) => part.map((e) => e.id));
    expect(ids(lokiPushParts(events, { maxBytes: 1 << 20, maxSpanMs: 60_000 }))).toEqual([
      ["g0", "g1", "g2", "g3"],
      ["t1"],
    ]);
    // Two entries per part fit the cap; an entry over it alone is a part of its own.
    expect(ids(lokiPushParts(events, { maxBytes: 2 * size + 1, maxSpanMs: 60_000 }))).toEqual([
      ["g0", "g1"],
      ["g2", "g3"],
      ["t1"],
    ]);
    expect(ids(lokiPushParts(events, { maxBytes: 1, maxSpanMs: 60_000 }))).toHaveLength(5);
    // A stream's entries spread over more than the span are cut at it.
    const spread = [
      event("a", at),
      event("b", at + 59_000),
      event("c", at + 61_000),
      event("d", at + 200_000),
    ];
    expect(ids(lokiPushParts(spread, { maxBytes: 1 << 20, maxSpanMs: 60_000 }))).toEqual([
      ["a", "b"],
      ["c"],
      ["d"],
    ]);
  });

  it("keeps every part of a 10,000-event batch under the cap, losing and repeating none", () => {
    const at = 1_737_110_400_000;
    const names = ["secret.get", "token.register", "access.approve"];
    const events = Array.from({ length: 10_000 }, (_, i) => event(`e${i}`, at + i * 10, names[i % 3]));
    const parts = lokiPushParts(events, { maxBytes: 256 * 1024, maxSpanMs: 600_000 });
    for (const part of parts) {
      expect(part.reduce((sum, e) => sum + entryBytes(e), 0)).toBeLessThanOrEqual(256 * 1024);
      expect(new Set(part.map((e) => e.event)).size).toBe(1);
    }
    expect(
      parts
        .flat()
        .map((e) => e.id)
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());
  });
});
