import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DurableMessage } from "@secrets/bus";
import { createLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditSink, SinkOutcome } from "../sinks/sink.ts";
import { createDelivery } from "./delivery.ts";
import { openParkFile } from "./parking.ts";
import { newShipperFigures } from "./shipper-figures.ts";

interface FakeMessage extends DurableMessage {
  acks: number;
  naks: number;
  workings: number;
}

function message(
  seq: number,
  payload = AuditEvent.encode(
    AuditEvent.fromPartial({ id: `e${seq}`, event: "secret.get", timestampMs: seq }),
  ).finish(),
): FakeMessage {
  const fake: FakeMessage = {
    seq,
    subject: "audit",
    payload,
    deliveryCount: 1,
    storedAtMs: 0,
    acks: 0,
    naks: 0,
    workings: 0,
    ack: async () => {
      fake.acks += 1;
    },
    nak: () => {
      fake.naks += 1;
    },
    working: () => {
      fake.workings += 1;
    },
  };
  return fake;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(
  write: (events: readonly AuditEvent[]) => Promise<SinkOutcome>,
  options: { ackWaitMs?: number; mayContinue?: () => boolean; sink?: Partial<AuditSink> } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "audit-delivery-"));
  dirs.push(dir);
  const lines: string[] = [];
  const logger = createLogger({ service: "test", level: "debug", write: (line) => lines.push(line) });
  const parkPath = join(dir, "parked.jsonl");
  const parking = await openParkFile(parkPath, logger);
  const figures = newShipperFigures();
  const sleeps: number[] = [];
  const sink: AuditSink = { name: "loki", write, ...options.sink };
  const deliver = createDelivery({
    sink,
    parking,
    logger,
    clock: { now: Date.now, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    retry: { initialDelayMs: 100, maxDelayMs: 1_000 },
    ackWaitMs: options.ackWaitMs ?? 10_000,
    figures,
    mayContinue: options.mayContinue ?? (() => true),
    signal: new AbortController().signal,
  });
  return { deliver, figures, sleeps, lines, parkPath, parking };
}

const ids = (events: readonly AuditEvent[]) => events.map((e) => e.id).join(",");

describe("delivery of one batch", () => {
  it("acknowledges only after the sink accepted, retrying the same batch with growing delays", async () => {
    const attempts: string[] = [];
    let failures = 3;
    const messages = [message(1), message(2)];
    const { deliver, figures, sleeps, lines } = await setup(async (events) => {
      attempts.push(ids(events));
      expect(messages.every((m) => m.acks === 0)).toBe(true);
      return failures-- > 0 ? { status: "retry", reason: "Loki answered 503" } : { status: "accepted" };
    });
    expect(await deliver(messages)).toBe("done");
    expect(attempts).toEqual(["e1,e2", "e1,e2", "e1,e2", "e1,e2"]);
    expect(sleeps).toEqual([75, 150, 300]);
    expect(messages.map((m) => m.acks)).toEqual([1, 1]);
    expect(figures).toMatchObject({ shipped: 2, consecutiveFailures: 0 });
    expect(lines.filter((l) => l.includes("push failed"))).toHaveLength(3);
    expect(lines.filter((l) => l.includes("audit sink recovered"))).toHaveLength(1);
  });

  it("keeps messages alive with working() while a push is outstanding", async () => {
    const messages = [message(1)];
    const { deliver } = await setup(
      async () => {
        await Bun.sleep(250);
        return { status: "accepted" };
      },
      { ackWaitMs: 300 },
    );
    await deliver(messages);
    expect(messages[0]?.workings).toBeGreaterThanOrEqual(2);
  });

  it("bisects a refused batch down to the refused events, parks them and acknowledges everything", async () => {
    const messages = [1, 2, 3, 4, 5].map((seq) => message(seq));
    const attempts: string[] = [];
    const { deliver, parkPath, lines, parking } = await setup(async (events) => {
      attempts.push(ids(events));
      return events.some((e) => e.id === "e4")
        ? { status: "refused", reason: "Loki answered 400: too old" }
        : { status: "accepted" };
    });
    expect(await deliver(messages)).toBe("done");
    expect(attempts).toEqual(["e1,e2,e3,e4,e5", "e1,e2,e3", "e4,e5", "e4", "e5"]);
    expect(messages.map((m) => m.acks)).toEqual([1, 1, 1, 1, 1]);
    const parked = readFileSync(parkPath, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(parked).toEqual([
      expect.objectContaining({ event_id: "e4", park_reason: "Loki answered 400: too old", stream_seq: 4 }),
    ]);
    expect(parking.count).toBe(1);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
    expect(logged).toEqual([
      expect.objectContaining({ eventId: "e4", reason: "Loki answered 400: too old" }),
    ]);
  });

  it("parks an undecodable payload rather than blocking the stream on it", async () => {
    const garbage = message(1, new Uint8Array([0xff, 0xff, 0xff]));
    const { deliver, parkPath } = await setup(async () => ({ status: "accepted" }));
    expect(await deliver([garbage, message(2)])).toBe("done");
    expect(garbage.acks).toBe(1);
    expect(JSON.parse(readFileSync(parkPath, "utf8"))).toMatchObject({
      payload_base64: "////",
      stream_seq: 1,
    });
  });

  it("hands the batch back (nak) when it must stop while retrying", async () => {
    let allowed = 2;
    const messages = [message(1), message(2)];
    const { deliver } = await setup(async () => ({ status: "retry", reason: "down" }), {
      mayContinue: () => allowed-- > 0,
    });
    expect(await deliver(messages)).toBe("abandoned");
    expect(messages.map((m) => [m.acks, m.naks])).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it("splits a part that keeps failing as one too large would, until the halves pass", async () => {
    const messages = [1, 2, 3, 4].map((seq) => message(seq));
    const attempts: string[] = [];
    const { deliver, lines } = await setup(async (events) => {
      attempts.push(ids(events));
      return events.length > 1
        ? { status: "retry", reason: "Loki answered 429: rate limit", mayBeTooLarge: true }
        : { status: "accepted" };
    });
    expect(await deliver(messages)).toBe("done");
    expect(attempts.slice(0, 4)).toEqual(["e1,e2,e3,e4", "e1,e2,e3,e4", "e1,e2,e3,e4", "e1,e2,e3,e4"]);
    expect(attempts.filter((a) => !a.includes(","))).toEqual(["e1", "e2", "e3", "e4"]);
    expect(messages.map((m) => m.acks)).toEqual([1, 1, 1, 1]);
    expect(lines.filter((l) => l.includes("splitting it")).length).toBeGreaterThanOrEqual(3);
  });

  it("never splits for failures that say nothing about size (Loki unreachable)", async () => {
    let failures = 8;
    const attempts: string[] = [];
    const { deliver } = await setup(async (events) => {
      attempts.push(ids(events));
      return failures-- > 0 ? { status: "retry", reason: "ECONNREFUSED" } : { status: "accepted" };
    });
    expect(await deliver([message(1), message(2)])).toBe("done");
    expect(new Set(attempts)).toEqual(new Set(["e1,e2"]));
  });

  it("pushes the sink's parts one by one, acknowledging each as it is accepted", async () => {
    const messages = [1, 2, 3, 4].map((seq) => message(seq));
    const acksAtPush: number[][] = [];
    const { deliver } = await setup(
      async () => {
        acksAtPush.push(messages.map((m) => m.acks));
        return { status: "accepted" };
      },
      { sink: { parts: (events) => [events.slice(0, 2), events.slice(2)] } },
    );
    expect(await deliver(messages)).toBe("done");
    expect(acksAtPush).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 0],
    ]);
  });

  it("asks the sink again before parking: held already, or taken another way, is not parked", async () => {
    const messages = [1, 2, 3].map((seq) => message(seq));
    const asked: string[] = [];
    const { deliver, parking, figures } = await setup(
      async (events) =>
        events.some((e) => e.id !== "e2")
          ? { status: "refused", reason: "Loki answered 400: entry too far behind" }
          : { status: "accepted" },
      {
        sink: {
          async reconsider(event, refusal) {
            asked.push(`${event.id}: ${refusal}`);
            return event.id === "e3"
              ? { status: "refused", reason: "still refused" }
              : { status: "accepted" };
          },
        },
      },
    );
    expect(await deliver(messages)).toBe("done");
    expect(asked).toEqual([
      "e1: Loki answered 400: entry too far behind",
      "e3: Loki answered 400: entry too far behind",
    ]);
    expect(messages.map((m) => m.acks)).toEqual([1, 1, 1]);
    expect(parking.count).toBe(1);
    expect(figures.shipped).toBe(2);
  });

  it("retries the question while the sink cannot answer it, and parks nothing meanwhile", async () => {
    let unanswered = 2;
    const { deliver, parking, sleeps } = await setup(
      async () => ({ status: "refused", reason: "Loki answered 400: timestamp too old" }),
      {
        sink: {
          reconsider: async () =>
            unanswered-- > 0 ? { status: "retry", reason: "query failed" } : { status: "accepted" },
        },
      },
    );
    const only = message(1);
    expect(await deliver([only])).toBe("done");
    expect(sleeps).toEqual([75, 150]);
    expect(parking.count).toBe(0);
    expect(only.acks).toBe(1);
  });
});
