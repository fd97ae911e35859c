/**
 * AUDIT_STREAM_REPLICAS on real nats-server: a stream created with one replica is moved to three when the
 * setting says so (a three-node cluster), and a single server refuses three with a reason that names the
 * setting, at once (nothing to wait for).
 */
import { silentLogger } from "@secrets/logger";
import { type NatsCluster, startNatsCluster } from "@secrets/test/support/nats-cluster";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusError, ErrorCode } from "./errors.ts";
import { connectNatsBus } from "./nats-bus.ts";
import { auditStreamSpec } from "./operations.ts";

const spec = auditStreamSpec({ maxBytes: 1024 * 1024, maxAgeMs: 0 });
let cluster: NatsCluster;

beforeAll(async () => {
  cluster = await startNatsCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.dispose();
});

describe("stream replicas", () => {
  it("moves an existing stream, its consumer and the lease bucket from one replica to three", async () => {
    const namespace = uniqueNamespace("repl");
    const single = await connectNatsBus({ url: cluster.urls, namespace, logger: silentLogger, name: "r1" });
    await single.ensureStream(spec);
    await single.consumer({ stream: "AUDIT", durable: "shipper", ackWaitMs: 5_000, maxAckPending: 10 });
    expect(await single.lease("shipper", { ttlMs: 3_000, holder: "one" }).tryAcquire()).toBe(true);
    await single.close();

    const triple = await connectNatsBus({
      url: cluster.urls,
      namespace,
      logger: silentLogger,
      name: "r3",
      replicas: 3,
    });
    try {
      await triple.ensureStream(spec);
      // Scaling up makes the new replicas catch up first; a loaded machine needs a moment for it.
      await cluster.waitForReplicas(triple.streamName("AUDIT"), 3, 30_000);
      await triple.consumer({ stream: "AUDIT", durable: "shipper", ackWaitMs: 5_000, maxAckPending: 10 });
      const lease = triple.lease("shipper", { ttlMs: 3_000, holder: "three" });
      for (let attempt = 0; ; attempt++) {
        const outcome = await lease.tryAcquire().catch((error: unknown) => error);
        if (typeof outcome === "boolean" || attempt >= 50) break;
        await Bun.sleep(200);
      }
      await cluster.waitForReplicas(`KV_${triple.streamName("LEASES")}`, 3, 30_000);
      const nc = await connect({ servers: cluster.urls.split(",") });
      try {
        const jsm = await nc.jetstreamManager();
        const stream = triple.streamName("AUDIT");
        expect((await jsm.streams.info(stream)).config.num_replicas).toBe(3);
        expect((await jsm.consumers.info(stream, "shipper")).config.num_replicas).toBe(3);
        expect((await jsm.streams.info(`KV_${triple.streamName("LEASES")}`)).config.num_replicas).toBe(3);
      } finally {
        await nc.close();
      }
    } finally {
      await triple.close();
    }
  }, 120_000);
});

describe("stream replicas on a single server", () => {
  it("refuses three at once, naming AUDIT_STREAM_REPLICAS and why", async () => {
    const bus = await connectNatsBus({
      url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      namespace: uniqueNamespace("repl"),
      logger: silentLogger,
      name: "r3-single",
      replicas: 3,
    });
    try {
      const refused = await bus.ensureStream(spec).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BusError);
      expect((refused as BusError).code).toBe(ErrorCode.FAILED_PRECONDITION);
      expect((refused as BusError).message).toMatch(/AUDIT_STREAM_REPLICAS.*(non-clustered|cluster)/i);
    } finally {
      await bus.close();
    }
  });
});
