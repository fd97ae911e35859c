/**
 * A backlog against a Loki that behaves as 3.5 does, limits on (loki-receiver.ts): 50,000 events that
 * piled up during a two-hour outage drain with every event stored exactly once and none parked, through
 * the tenant's 4 MB/s, the 4 MiB message limit, lost answers, and admin events relayed late; and
 * audit queries by service find the events.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditEventsTopic, auditStreamName, auditStreamSpec, MemoryBus, publishDurable } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { type LokiReceiver, LokiVersion, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { createLokiQueryBackend } from "../loki/loki-query-backend.ts";
import { createLokiSink } from "../loki/loki-sink.ts";
import { openParkFile } from "./parking.ts";
import { createShipper } from "./shipper.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const hourMs = 60 * 60 * 1000;
const services = ["orders", "billing", "shipping", "search"];
const names = ["secret.get", "secret.get", "secret.get", "token.register", "access.request"];

async function auditBus() {
  const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger, closeGraceMs: 100 });
  await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
  cleanups.push(() => bus.close());
  return bus;
}

async function publishAll(bus: MemoryBus, events: readonly AuditEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1_000) {
    await Promise.all(
      events
        .slice(i, i + 1_000)
        .map((event) => publishDurable(bus, auditEventsTopic, event, { msgId: event.id, timeoutMs: 5_000 })),
    );
  }
}

/** Events of a realistic size (about 450 bytes a line), `count` of them spread evenly over `[fromMs, toMs]`. */
function spread(count: number, fromMs: number, toMs: number, prefix: string): AuditEvent[] {
  return Array.from({ length: count }, (_, i) =>
    AuditEvent.fromPartial({
      id: `${prefix}${String(i).padStart(6, "0")}`,
      timestampMs: Math.round(fromMs + ((toMs - fromMs) * i) / count),
      level: "info",
      event: names[i % names.length],
      success: i % 7 !== 0,
      reason: i % 7 === 0 ? "ACCESS_PENDING" : "",
      secretId: "0194f1b2-7c3d-7a8b-9c0d-1e2f3a4b5c6d",
      secretName: `DATABASE_URL_${i % 40}`,
      serviceName: services[i % services.length],
      requestId: crypto.randomUUID(),
      ipAddress: "10.20.30.40",
      userAgent: "grpc-node-js/1.12.6 secrets-sdk/0.4.0 (linux; x64) service-runtime/bun-1.4.4",
    }),
  );
}

async function shipperOn(bus: MemoryBus, loki: LokiReceiver, batchMax: number) {
  const dir = mkdtempSync(join(tmpdir(), "audit-drain-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const parking = await openParkFile(join(dir, "parked.jsonl"), silentLogger);
  const shipper = createShipper({
    bus,
    sink: createLokiSink({
      connection: { url: loki.url, timeoutMs: 5_000 },
      environment: "test",
      gzip: true,
    }),
    parking,
    logger: silentLogger,
    options: {
      consumerName: "audit-shipper",
      batchMax,
      batchWaitMs: 1_000,
      ackWaitMs: 30_000,
      leaseTtlMs: 45_000,
      holder: "drain",
      // Real sleeps, short: a rate-limited push waits for Loki's buckets to refill.
      retry: { initialDelayMs: 20, maxDelayMs: 250 },
    },
  });
  await shipper.start();
  cleanups.push(() => shipper.stop());
  return { shipper, parking };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

/** Every id stored exactly once; returns how many entries Loki holds. */
function expectExactlyOnce(loki: LokiReceiver, events: readonly AuditEvent[]): void {
  const stored = loki.entries().map((entry) => JSON.parse(entry.line).event_id as string);
  expect(stored.length).toBe(events.length);
  expect(new Set(stored)).toEqual(new Set(events.map((event) => event.id)));
}

describe("draining a backlog into Loki 3.5 with its default limits", () => {
  it("stores 50,000 events from a two-hour outage exactly once, parks none, and finds them by service", async () => {
    const loki = await startLokiReceiver({ version: LokiVersion.v3_5 });
    cleanups.push(() => loki.stop());
    const bus = await auditBus();
    const now = Date.now();
    const backlog = spread(50_000, now - 2 * hourMs, now - 1_000, "e");
    // Admin events the vault's outbox relayed after newer ones of their name (published last, dated
    // 90 minutes before the end of the outage): too far behind their stream for Loki.
    const relayed = spread(25, now - 100 * 60_000, now - 90 * 60_000, "r").map((event) => ({
      ...event,
      event: "token.register",
    }));
    await publishAll(bus, [...backlog, ...relayed]);
    // Two pushes stored whose answers are lost: their retries must not duplicate anything.
    loki.loseNextAnswers(2);

    const started = performance.now();
    const { shipper, parking } = await shipperOn(bus, loki, 10_000);
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0, 50_000);
    const drainMs = performance.now() - started;
    console.info(`drained 50,025 events in ${Math.round(drainMs)} ms (${loki.pushes.length} pushes)`);

    expectExactlyOnce(loki, [...backlog, ...relayed]);
    expect(parking.count).toBe(0);
    expect((await shipper.status()).parked).toBe(0);
    // Each push held one stream and stayed under the byte cap, so none was over a limit for good.
    expect(loki.pushes.every((push) => push.streams === 1 && push.bytes <= 1 << 20)).toBe(true);
    expect(loki.pushes.filter((push) => push.status === 504)).toHaveLength(2);
    expect(loki.pushes.some((push) => push.status === 429)).toBe(true);
    const late = loki.entries().filter((entry) => entry.labels.late_hour !== undefined);
    expect(late).toHaveLength(relayed.length);

    // GET /audit?service=orders asks this backend: Loki 3's service_name label must not hide them.
    const queries = createLokiQueryBackend({
      connection: { url: loki.url, timeoutMs: 5_000 },
      environment: "test",
    });
    const found = await queries.query({
      serviceName: "orders",
      fromMs: now - 3 * hourMs,
      toMs: now,
      limit: 1000,
    });
    expect(found).toHaveLength(1000);
    expect(found.every((event) => event.serviceName === "orders")).toBe(true);
    const newestOrders = [...backlog, ...relayed]
      .filter((event) => event.serviceName === "orders")
      .sort((a, b) => b.timestampMs - a.timestampMs)
      .slice(0, 1000);
    expect(found.map((event) => event.id)).toEqual(newestOrders.map((event) => event.id));
    const window = { fromMs: now - 101 * 60_000, toMs: now - 89 * 60_000 };
    const relayedFound = await queries.query({
      serviceName: "orders",
      event: "token.register",
      ...window,
      limit: 1000,
    });
    const inWindow = (event: AuditEvent) =>
      event.serviceName === "orders" &&
      event.event === "token.register" &&
      event.timestampMs >= window.fromMs &&
      event.timestampMs <= window.toMs;
    expect(relayedFound.map((event) => event.id).sort()).toEqual(
      [...backlog, ...relayed]
        .filter(inWindow)
        .map((event) => event.id)
        .sort(),
    );
    expect(relayedFound.filter((event) => event.id.startsWith("r")).length).toBeGreaterThan(0);
  }, 60_000);

  it("never acknowledges an event of an earlier stream that Loki refused behind a later stream's 204", async () => {
    const loki = await startLokiReceiver({ version: LokiVersion.v3_5 });
    cleanups.push(() => loki.stop());
    const bus = await auditBus();
    const now = Date.now();
    const [newest] = spread(1, now, now, "n").map((event) => ({ ...event, event: "token.approve" }));
    // One batch: a token.approve two hours behind the one Loki holds, then a secret.get that is fine.
    const behind = { ...(newest as AuditEvent), id: "behind", timestampMs: now - 2 * hourMs };
    const fine = { ...(newest as AuditEvent), id: "fine", event: "secret.get" };
    await publishAll(bus, [newest as AuditEvent]);
    const { shipper } = await shipperOn(bus, loki, 10);
    await until(() => loki.entries().length === 1, 10_000);
    await publishAll(bus, [behind, fine]);
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0, 10_000);
    expectExactlyOnce(loki, [newest as AuditEvent, behind, fine]);
    expect((await shipper.status()).parked).toBe(0);
  });
});
