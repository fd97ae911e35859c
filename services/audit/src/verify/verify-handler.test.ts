/**
 * `auditOperations.verify` over what was shipped: a trail shipped to Loki (the 3.5 stand-in), read back
 * page by page, verifies; a journal with a line removed reports it; the key alone is served too.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditEventsTopic, auditStreamName, auditStreamSpec, MemoryBus, publishDurable } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { LokiVersion, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { chainedTrail, digestLine } from "../../../../packages/audit-chain/src/trail-fixture.ts";
import { createLokiSink } from "../loki/loki-sink.ts";
import { openParkFile } from "../shipper/parking.ts";
import { createShipper } from "../shipper/shipper.ts";
import { createAuditTrail } from "../trail/audit-trail.ts";
import { memoryChainCheckpoint } from "../trail/chain-checkpoint.ts";
import { fileTrailLines, lokiTrailLines } from "./trail-lines.ts";
import { createVerifyHandler } from "./verify-handler.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const keys = generateKeyPairSync("ed25519");
const publicKeyPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "audit-verify-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("verifying the shipped trail through the audit service", () => {
  it("reads a trail back from Loki page by page and finds it intact", async () => {
    const loki = await startLokiReceiver({ version: LokiVersion.v3_5 });
    cleanups.push(() => loki.stop());
    const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger, closeGraceMs: 100 });
    await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
    cleanups.push(() => bus.close());
    const connection = { url: loki.url, timeoutMs: 5_000 };
    const shipper = createShipper({
      bus,
      sink: createLokiSink({ connection, environment: "test", gzip: false }),
      parking: await openParkFile(join(tempDir(), "parked.jsonl"), silentLogger),
      logger: silentLogger,
      trail: createAuditTrail({
        checkpoint: memoryChainCheckpoint(),
        signingKey: keys.privateKey,
        digestIntervalMs: 60_000,
      }),
      options: {
        consumerName: "audit-shipper",
        batchMax: 10,
        batchWaitMs: 50,
        ackWaitMs: 400,
        leaseTtlMs: 600,
        holder: "verify",
        retry: { initialDelayMs: 5, maxDelayMs: 20 },
      },
    });
    await shipper.start();
    const startedMs = Date.now();
    const names = ["secret.get", "token.register", "access.approve"];
    for (let i = 0; i < 25; i++) {
      const event = AuditEvent.fromPartial({
        id: `v${i}`,
        timestampMs: Date.now(),
        event: names[i % 3],
        success: true,
      });
      await publishDurable(bus, auditEventsTopic, event, { msgId: event.id, timeoutMs: 1_000 });
    }
    const deadline = Date.now() + 10_000;
    while ((await bus.streamState(auditStreamName))?.messages !== 0 && Date.now() < deadline)
      await Bun.sleep(10);
    await shipper.stop(); // ships the digest

    const verify = createVerifyHandler({
      source: lokiTrailLines({ connection, environment: "test", pageSize: 4 }),
      publicKeyPem: publicKeyPem,
      logger: silentLogger,
    });
    const reply = await verify({ fromMs: startedMs - 1_000, toMs: Date.now() + 1_000, keyOnly: false });
    expect(reply).toMatchObject({ ok: true, problems: [], events: 25, firstSeq: 1, lastSeq: 25 });
    expect(reply).toMatchObject({
      validDigests: 1,
      signedThroughSeq: 25,
      truncated: false,
      publicKey: publicKeyPem,
    });
  });

  it("reports an event removed from the journal, with its position, and serves the key alone", async () => {
    const path = join(tempDir(), "audit.jsonl");
    const events = chainedTrail(12);
    const lines = [
      ...events.map((e) => e.text),
      digestLine(1, 12, events[11]?.hash as string, keys.privateKey),
    ];
    lines.splice(4, 1);
    writeFileSync(path, `${lines.join("\n")}\n`);
    const verify = createVerifyHandler({ source: fileTrailLines(path), publicKeyPem, logger: silentLogger });
    const reply = await verify({ fromMs: 1_759_990_000_000, toMs: 1_760_010_000_000, keyOnly: false });
    expect(reply.ok).toBe(false);
    expect(reply.problems).toEqual([{ kind: "missing", seq: 5, toSeq: 5, detail: "position 5 is missing" }]);
    expect(await verify({ fromMs: 0, toMs: 0, keyOnly: true })).toMatchObject({
      ok: true,
      publicKey: publicKeyPem,
    });
  });
});
