/**
 * The chain as the shipper writes it: events shipped by one process and then by its successor after a
 * lease handover, with digests at intervals and at each shutdown, form one trail that the verifier
 * accepts; and the signing key is created once, private to this service.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePublicKey, verifyTrail } from "@secrets/audit-chain";
import { auditEventsTopic, auditStreamName, auditStreamSpec, MemoryBus, publishDurable } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { openParkFile } from "../shipper/parking.ts";
import { createShipper } from "../shipper/shipper.ts";
import { createFileSink } from "../sinks/file-sink.ts";
import { createAuditTrail } from "./audit-trail.ts";
import { type ChainCheckpointStore, fileChainCheckpoint, memoryChainCheckpoint } from "./chain-checkpoint.ts";
import { fileFindLink } from "./chain-lookup.ts";
import { loadOrCreateSigningKey } from "./signing-key.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "audit-trail-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function publish(bus: MemoryBus, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const event = AuditEvent.fromPartial({
      id: `e${i}`,
      timestampMs: Date.now(),
      level: "info",
      event: "secret.get",
      success: true,
      serviceName: "orders",
    });
    await publishDurable(bus, auditEventsTopic, event, { msgId: event.id, timeoutMs: 1_000 });
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

describe("the hash chain as the shipper writes it", () => {
  it("continues across a lease handover, with digests at intervals and at shutdown, and verifies", async () => {
    const dir = tempDir();
    const journal = join(dir, "audit.jsonl");
    const key = await loadOrCreateSigningKey(dir);
    const checkpoint: ChainCheckpointStore = fileChainCheckpoint(join(dir, "audit-chain.json"));
    const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger, closeGraceMs: 100 });
    await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
    cleanups.push(() => bus.close());
    const parking = await openParkFile(join(dir, "parked.jsonl"), silentLogger);

    const shipperNamed = (holder: string, digestIntervalMs: number) =>
      createShipper({
        bus,
        sink: createFileSink(journal),
        parking,
        logger: silentLogger,
        trail: createAuditTrail({ checkpoint, signingKey: key.privateKey, digestIntervalMs }),
        options: {
          consumerName: "audit-shipper",
          batchMax: 7,
          batchWaitMs: 50,
          ackWaitMs: 400,
          leaseTtlMs: 600,
          holder,
          retry: { initialDelayMs: 5, maxDelayMs: 20 },
        },
      });
    const lines = () => readFileSync(journal, "utf8").split("\n");
    const digests = () => lines().filter((line) => line.includes('"event":"audit.digest"')).length;

    const first = shipperNamed("first", 1);
    await first.start();
    await publish(bus, 1, 30);
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
    await until(() => digests() >= 1); // an interval digest while running
    await first.stop();

    const second = shipperNamed("second", 60_000);
    await second.start();
    await publish(bus, 31, 20);
    await until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
    await second.stop(); // its only digest: the one at shutdown

    const report = verifyTrail(lines(), parsePublicKey(readFileSync(key.publicKeyPath, "utf8")));
    expect(report).toMatchObject({ ok: true, problems: [], events: 50, firstSeq: 1, lastSeq: 50 });
    expect(report).toMatchObject({ signedThroughSeq: 50, restarts: [] });
    expect(report.validDigests).toBeGreaterThanOrEqual(2);

    // Any edit of what was shipped is found at its position.
    const edited = lines().map((line) =>
      line.includes('"event_id":"e17"') ? line.replace("orders", "billing") : line,
    );
    expect(verifyTrail(edited, parsePublicKey(key.publicKeyPem)).problems).toEqual([
      expect.objectContaining({ kind: "modified", seq: 17 }),
    ]);
  });

  it("continues the chain after a handover to a process without the checkpoint, from the sink's lines", async () => {
    const dir = tempDir();
    const journal = join(dir, "audit.jsonl");
    const key = await loadOrCreateSigningKey(dir);
    const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger, closeGraceMs: 100 });
    await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
    cleanups.push(() => bus.close());
    const parking = await openParkFile(join(dir, "parked.jsonl"), silentLogger);
    // Each process its own checkpoint, as on two hosts; the second finds the link in the journal.
    const shipperNamed = (holder: string) =>
      createShipper({
        bus,
        sink: createFileSink(journal),
        parking,
        logger: silentLogger,
        trail: createAuditTrail({
          checkpoint: memoryChainCheckpoint(),
          signingKey: key.privateKey,
          digestIntervalMs: 60_000,
          findLink: fileFindLink(journal),
        }),
        options: {
          consumerName: "audit-shipper",
          batchMax: 7,
          batchWaitMs: 50,
          ackWaitMs: 400,
          leaseTtlMs: 600,
          holder,
          retry: { initialDelayMs: 5, maxDelayMs: 20 },
        },
      });
    const drained = () => until(async () => (await bus.streamState(auditStreamName))?.messages === 0);
    const first = shipperNamed("first");
    await first.start();
    await publish(bus, 1, 12);
    await drained();
    await first.stop();
    const second = shipperNamed("second");
    await second.start();
    await publish(bus, 13, 12);
    await drained();
    await second.stop();

    const report = verifyTrail(readFileSync(journal, "utf8").split("\n"), parsePublicKey(key.publicKeyPem));
    expect(report).toMatchObject({ ok: true, events: 24, signedThroughSeq: 24, restarts: [] });
  });

  it("creates the signing key once, private to its owner, with the public key beside it", async () => {
    const dir = tempDir();
    const created = await loadOrCreateSigningKey(dir);
    expect(statSync(created.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "audit-signing.pub"), "utf8")).toBe(created.publicKeyPem);
    expect(created.publicKeyPem).toContain("BEGIN PUBLIC KEY");
    const again = await loadOrCreateSigningKey(dir);
    expect(again.publicKeyPem).toBe(created.publicKeyPem);
  });
});
