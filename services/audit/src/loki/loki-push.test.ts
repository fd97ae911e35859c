import { AuditEvent } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import { lokiPushBody, lokiTimestamp } from "./loki-push.ts";

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
});
