import { createLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "./audit-outbox-dal.ts";
import { createOutboxRelay } from "./outbox-relay.ts";

const now = Date.UTC(2025, 0, 17, 12, 0, 0);
const entry = (id: string, timestampMs: number): OutboxEntry => ({
  id,
  event: AuditEvent.encode(AuditEvent.fromPartial({ id, timestampMs, event: "token.approve" })).finish(),
});

describe("audit outbox relay", () => {
  it("publishes by the event's own time, removes each once published, and logs how late they are", async () => {
    const rows = [entry("b", now - 2 * 3_600_000), entry("a", now - 3 * 3_600_000), entry("c", now - 60_000)];
    const published: string[] = [];
    const removed: string[] = [];
    const lines: string[] = [];
    const relay = createOutboxRelay({
      outbox: {
        insert: async () => {},
        remove: async (id) => void removed.push(id),
        olderThan: async () => rows,
      },
      recorder: { publish: async (event) => void published.push(event.id) },
      logger: createLogger({ service: "vault", level: "info", write: (line) => lines.push(line) }),
      intervalMs: 1_000,
      graceMs: 5_000,
      now: () => now,
    });
    expect(await relay.relayOnce()).toBe(3);
    expect(published).toEqual(["a", "b", "c"]);
    expect(removed).toEqual(["a", "b", "c"]);
    expect(JSON.parse(lines.at(-1) ?? "{}")).toMatchObject({ count: 3, oldestAgeMs: 3 * 3_600_000 });
  });

  it("leaves an entry in the outbox when its publish fails", async () => {
    const removed: string[] = [];
    const relay = createOutboxRelay({
      outbox: {
        insert: async () => {},
        remove: async (id) => void removed.push(id),
        olderThan: async () => [entry("a", now)],
      },
      recorder: {
        publish: async () => {
          throw new Error("stream full");
        },
      },
      logger: createLogger({ service: "vault", level: "info", write: () => {} }),
      intervalMs: 1_000,
      graceMs: 5_000,
      now: () => now,
    });
    await expect(relay.relayOnce()).rejects.toThrow("stream full");
    expect(removed).toEqual([]);
  });
});
