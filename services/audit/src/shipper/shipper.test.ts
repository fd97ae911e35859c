import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  auditEventsTopic,
  auditOperations,
  auditStreamName,
  auditStreamSpec,
  MemoryBus,
  publishDurable,
  request,
} from "@secrets/bus";
import { createLogger, silentLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { serveAuditStatus } from "../handlers/status-handler.ts";
import { createLokiSink } from "../loki/loki-sink.ts";
import type { AuditSink, SinkOutcome } from "../sinks/sink.ts";
import type { ShipperClock } from "./clock.ts";
import { openParkFile } from "./parking.ts";
import { createShipper, type Shipper, type ShipperOptions } from "./shipper.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Retry delays are recorded and cut short, so tests never wait for a backoff. */
function fastClock(): ShipperClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: Date.now,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      await Bun.sleep(Math.min(ms, 5));
    },
  };
}

async function auditBus() {
  const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger, closeGraceMs: 100 });
  await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
  cleanups.push(() => bus.close());
  return bus;
}

let sequence = 0;
async function publishEvents(
  bus: MemoryBus,
  count: number,
  fields: Partial<AuditEvent> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `e${String(++sequence).padStart(5, "0")}`;
    const event = AuditEvent.fromPartial({
      id,
      timestampMs: Date.now(),
      event: "secret.get",
      success: true,
      ...fields,
    });
    await publishDurable(bus, auditEventsTopic, event, { msgId: id, timeoutMs: 1_000 });
    ids.push(id);
  }
  return ids;
}

/** A sink that records each batch's ids and answers with `respond` (accepted by default). */
function recordingSink(
  respond: (events: readonly AuditEvent[]) => Promise<SinkOutcome> = async () => ({ status: "accepted" }),
) {
  const batches: string[][] = [];
  const sink: AuditSink = {
    name: "file",
    async write(events) {
      batches.push(events.map((e) => e.id));
      return respond(events);
    },
  };
  return { sink, batches };
}

async function startShipper(
  bus: MemoryBus,
  sink: AuditSink,
  options: Partial<ShipperOptions> = {},
  clock: ShipperClock = fastClock(),
): Promise<Shipper & { parkPath: string; logLines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "audit-shipper-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const logLines: string[] = [];
  const logger = createLogger({ service: "audit", level: "debug", write: (line) => logLines.push(line) });
  const parkPath = join(dir, "parked.jsonl");
  const shipper = createShipper({
    bus,
    sink,
    parking: await openParkFile(parkPath, logger),
    logger,
    clock,
    options: {
      consumerName: "audit-shipper",
      batchMax: 10,
      batchWaitMs: 1_000,
      ackWaitMs: 5_000,
      leaseTtlMs: 600,
      holder: `holder-${crypto.randomUUID().slice(0, 6)}`,
      retry: { initialDelayMs: 100, maxDelayMs: 1_000 },
      ...options,
    },
  });
  await shipper.start();
  cleanups.push(() => shipper.stop());
  return Object.assign(shipper, { parkPath, logLines });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

describe("audit shipper", () => {
  it("ships batches of at most AUDIT_BATCH_MAX, and a partial batch once the wait is over", async () => {
    const bus = await auditBus();
    const published = await publishEvents(bus, 25);
    const { sink, batches } = recordingSink();
    const started = Date.now();
    await startShipper(bus, sink, { batchMax: 10 });
    await until(() => batches.flat().length === 25);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(published);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the last 5 waited for the batch wait
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
  });

  it("acknowledges only after the sink succeeded: unaccepted events stay in the stream", async () => {
    const bus = await auditBus();
    await publishEvents(bus, 3);
    let accept: () => void = () => {};
    const accepted = new Promise<void>((resolve) => {
      accept = resolve;
    });
    const { sink, batches } = recordingSink(async () => {
      await accepted;
      return { status: "accepted" };
    });
    const shipper = await startShipper(bus, sink);
    await until(() => batches.length === 1);
    expect(await bus.streamState(auditStreamName)).toMatchObject({ messages: 3 });
    expect(await shipper.status()).toMatchObject({ inFlight: 3, pending: 0, lastSuccessMs: 0, active: true });
    accept();
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
    expect(await shipper.status()).toMatchObject({ inFlight: 0, lastSuccessMs: expect.any(Number) });
    expect((await shipper.status()).lastSuccessMs).toBeGreaterThan(0);
  });

  it("retries the same batch with backoff through Loki failures, never skipping ahead", async () => {
    const loki = await startLokiReceiver();
    cleanups.push(() => loki.stop());
    const bus = await auditBus();
    const published = await publishEvents(bus, 30);
    loki.failNextPushes(3, 500);
    const clock = fastClock();
    const sink = createLokiSink({
      connection: { url: loki.url, timeoutMs: 2_000 },
      environment: "test",
      gzip: true,
    });
    const shipper = await startShipper(bus, sink, { batchMax: 10 }, clock);
    await until(() => loki.entries().length === 30);
    expect(loki.entries().map((e) => JSON.parse(e.line).event_id)).toEqual(published);
    expect(loki.pushes.map((p) => p.status)).toEqual([500, 500, 500, 204, 204, 204]);
    expect(clock.sleeps.slice(0, 3)).toEqual([75, 150, 300]);
    expect(shipper.logLines.filter((l) => l.includes("push failed")).length).toBe(3);
    expect(shipper.logLines.some((l) => l.includes("audit sink recovered"))).toBe(true);
    expect(await shipper.status()).toMatchObject({ consecutiveFailures: 0, sink: "loki" });
  });

  it("counts consecutive failures while the sink is down and reports them on the bus", async () => {
    const bus = await auditBus();
    await publishEvents(bus, 2);
    let down = true;
    const { sink } = recordingSink(async () =>
      down ? { status: "retry", reason: "connection refused" } : { status: "accepted" },
    );
    const shipper = await startShipper(bus, sink, {}, fastClock());
    const status = serveAuditStatus(bus, shipper);
    cleanups.push(() => status.unsubscribe());
    await until(async () => (await shipper.status()).consecutiveFailures >= 3);
    const reply = await request(bus, auditOperations.status, {}, { timeoutMs: 1_000 });
    expect(reply).toMatchObject({ active: true, inFlight: 2, sink: "file", parked: 0 });
    expect(reply.consecutiveFailures).toBeGreaterThanOrEqual(3);
    down = false;
    await until(async () => (await shipper.status()).consecutiveFailures === 0);
  });

  it("parks an event Loki refuses for good (400) and ships the rest, each once", async () => {
    const loki = await startLokiReceiver();
    cleanups.push(() => loki.stop());
    const bus = await auditBus();
    const before = await publishEvents(bus, 2);
    const [old] = await publishEvents(bus, 1, { timestampMs: Date.now() - 8 * 24 * 60 * 60 * 1000 });
    const after = await publishEvents(bus, 2);
    const sink = createLokiSink({
      connection: { url: loki.url, timeoutMs: 2_000 },
      environment: "test",
      gzip: false,
    });
    const shipper = await startShipper(bus, sink, { batchMax: 5 });
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
    expect(loki.entries().map((e) => JSON.parse(e.line).event_id)).toEqual([...before, ...after]);
    const parked = readFileSync(shipper.parkPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(parked).toEqual([
      expect.objectContaining({ event_id: old, park_reason: expect.stringMatching(/too old/) }),
    ]);
    expect((await shipper.status()).parked).toBe(1);
    expect(shipper.logLines.some((l) => l.includes('"level":"error"') && l.includes(old ?? "?"))).toBe(true);
  });

  it("ships from one process at a time and hands over to a standby", async () => {
    const bus = await auditBus();
    const first = recordingSink();
    const second = recordingSink();
    const a = await startShipper(bus, first.sink);
    await until(() => a.active);
    const b = await startShipper(bus, second.sink);
    const batch1 = await publishEvents(bus, 5);
    await until(() => first.batches.flat().length === 5);
    expect(b.active).toBe(false);
    expect(await b.status()).toMatchObject({ active: false });
    expect(b.logLines.some((l) => l.includes("on standby"))).toBe(true);

    await a.stop(); // releases the lease
    await until(() => b.active, 5_000);
    const batch2 = await publishEvents(bus, 5);
    await until(() => second.batches.flat().length === 5);
    expect(first.batches.flat()).toEqual(batch1);
    expect(second.batches.flat()).toEqual(batch2);
  });

  it("takes over from a holder that died, starting with the events it left unacknowledged", async () => {
    const bus = await auditBus();
    const spec = { stream: auditStreamName, durable: "audit-shipper", ackWaitMs: 300, maxAckPending: 10 };
    // A process took the lease, fetched two events, and died before acknowledging them.
    expect(await bus.lease("audit-shipper", { holder: "dead", ttlMs: 600 }).tryAcquire()).toBe(true);
    const published = await publishEvents(bus, 2);
    expect(await (await bus.consumer(spec)).fetch({ max: 2, expiresMs: 1_000 })).toHaveLength(2);
    published.push(...(await publishEvents(bus, 3)));
    const next = recordingSink();
    // (The ack wait must outlast a fetch's wait, as the configuration requires.)
    const b = await startShipper(bus, next.sink, { ackWaitMs: 2_000, leaseTtlMs: 3_000 });
    expect(b.active).toBe(false);
    await until(() => next.batches.flat().length >= 5, 5_000);
    expect(next.batches.flat()).toEqual(published);
    expect(b.active).toBe(true);
  });
});
