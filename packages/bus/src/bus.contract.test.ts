/**
 * The Bus contract, run against both implementations: the in-process bus and NATS on a real nats-server.
 */
import { silentLogger } from "@secrets/logger";
import { SealingKeyReply, SealingKeyRequest } from "@secrets/proto/admin";
import { AuditEvent } from "@secrets/proto/audit";
import { VaultPingReply, VaultPingRequest } from "@secrets/proto/vault";
import { type NatsServerHandle, startNatsServer, uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Bus,
  BusError,
  connectNatsBus,
  type DurableMessage,
  ErrorCode,
  type Operation,
  publish,
  publishDurable,
  Reason,
  request,
  serve,
  subscribe,
} from "./index.ts";
import { MemoryBus } from "./memory-bus.ts";

interface Pair {
  /** The side that sends requests and publishes. */
  client: Bus;
  /** The side that serves and subscribes (the same bus in process). */
  server: Bus;
}

const ping: Operation<VaultPingRequest, VaultPingReply> = {
  subject: "v1.test.ping",
  request: VaultPingRequest,
  reply: VaultPingReply,
};
const sealing: Operation<SealingKeyRequest, SealingKeyReply> = {
  subject: "v1.test.sealing",
  request: SealingKeyRequest,
  reply: SealingKeyReply,
};
const eventsTopic = { subject: "v1.test.events.created", message: AuditEvent };

let natsServer: NatsServerHandle;
beforeAll(async () => {
  natsServer = await startNatsServer();
});
afterAll(async () => {
  await natsServer?.dispose();
});

const implementations: [string, (namespace: string) => Promise<Pair>][] = [
  [
    "in-process",
    async (namespace) => {
      const bus = new MemoryBus({ namespace, logger: silentLogger, closeGraceMs: 500 });
      return { client: bus, server: bus };
    },
  ],
  [
    "NATS",
    async (namespace) => {
      const options = { url: natsServer.url, namespace, logger: silentLogger, closeGraceMs: 500 };
      return {
        client: await connectNatsBus({ ...options, name: "test-client" }),
        server: await connectNatsBus({ ...options, name: "test-server" }),
      };
    },
  ],
];

function event(id: string): AuditEvent {
  return AuditEvent.fromPartial({ id, event: "test", timestampMs: Date.now(), success: true });
}

describe.each(implementations)("Bus contract: %s", (_name, create) => {
  let pair: Pair;
  const extra: Bus[] = [];

  afterEach(async () => {
    for (const bus of [pair.client, pair.server, ...extra.splice(0)]) await bus.close();
  });

  async function open(namespace = uniqueNamespace()): Promise<Pair> {
    pair = await create(namespace);
    return pair;
  }

  it("answers a typed request", async () => {
    const { client, server } = await open();
    serve(server, ping, { queue: "q" }, async () => ({ nowMs: 42 }));
    await server.flush();
    await expect(request(client, ping, {}, { timeoutMs: 2_000 })).resolves.toEqual({ nowMs: 42 });
  });

  it("prefixes the namespace to subjects and stream names", async () => {
    const { client } = await open("ns-a");
    expect(client.subject("v1.vault.service.ping")).toBe("ns-a.v1.vault.service.ping");
    expect(client.streamName("AUDIT")).toBe("NS_A_AUDIT");
  });

  it("delivers each request to exactly one member of a queue group", async () => {
    const { client, server } = await open();
    const handled = [0, 0];
    for (const index of [0, 1]) {
      serve(server, ping, { queue: "vault" }, async () => {
        handled[index] = (handled[index] ?? 0) + 1;
        return { nowMs: index };
      });
    }
    await server.flush();
    await Promise.all(Array.from({ length: 40 }, () => request(client, ping, {}, { timeoutMs: 2_000 })));
    expect((handled[0] ?? 0) + (handled[1] ?? 0)).toBe(40);
  });

  it("handles requests concurrently", async () => {
    const { client, server } = await open();
    // The first request can only finish once the second has started: a serial server would time out.
    let releaseFirst: () => void = () => {};
    const secondStarted = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let calls = 0;
    serve(server, ping, { queue: "q" }, async () => {
      calls += 1;
      if (calls === 1) await secondStarted;
      else releaseFirst();
      return { nowMs: calls };
    });
    await server.flush();
    const results = await Promise.all([
      request(client, ping, {}, { timeoutMs: 3_000 }),
      request(client, ping, {}, { timeoutMs: 3_000 }),
    ]);
    expect(results).toHaveLength(2);
  });

  it("carries a handler's BusError with its code, reason and violations", async () => {
    const { client, server } = await open();
    serve(server, ping, { queue: "q" }, async () => {
      throw new BusError(ErrorCode.PERMISSION_DENIED, "Token awaits approval", {
        reason: Reason.TOKEN_PENDING_APPROVAL,
        violations: [{ field: "token", description: "pending" }],
      });
    });
    await server.flush();
    const error = await request(client, ping, {}, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusError);
    expect(error).toMatchObject({
      code: ErrorCode.PERMISSION_DENIED,
      reason: Reason.TOKEN_PENDING_APPROVAL,
      message: "Token awaits approval",
      violations: [{ field: "token", description: "pending" }],
    });
  });

  it("turns any other failure into INTERNAL without its detail", async () => {
    const { client, server } = await open();
    serve(server, ping, { queue: "q" }, async () => {
      throw new Error('relation "secrets" does not exist: SELECT value FROM secrets');
    });
    serve(server, sealing, { queue: "q" }, () => Promise.reject("plain rejection"));
    await server.flush();
    for (const op of [ping, sealing] as const) {
      const error = await request(client, op as Operation<object, object>, {}, { timeoutMs: 2_000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: ErrorCode.INTERNAL });
      expect((error as Error).message).not.toMatch(/SELECT|secrets|plain/);
    }
  });

  it("answers an undecodable request with INVALID_ARGUMENT", async () => {
    const { client, server } = await open();
    serve(server, sealing, { queue: "q" }, async () => ({ keyId: "k", publicKey: Buffer.alloc(0) }));
    await server.flush();
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    const error = await client
      .request(sealing.subject, garbage, { timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });

  it("reports NO_RESPONDERS when nobody serves the subject", async () => {
    const { client } = await open();
    const error = await request(client, ping, {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_RESPONDERS });
  });

  it("reports TIMEOUT when the handler does not answer in time", async () => {
    const { client, server } = await open();
    serve(server, ping, { queue: "q" }, () => new Promise(() => {}));
    await server.flush();
    const error = await request(client, ping, {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
  });

  it("keeps namespaces apart", async () => {
    const { server } = await open();
    serve(server, ping, { queue: "q" }, async () => ({ nowMs: 1 }));
    await server.flush();
    const other = (await create(uniqueNamespace())).client;
    extra.push(other);
    const error = await request(other, ping, {}, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_RESPONDERS });
  });

  it("publishes to subscribers, with wildcards", async () => {
    const { client, server } = await open();
    const received: string[] = [];
    const done = new Promise<void>((resolve) => {
      subscribe(
        server,
        { subject: "v1.test.events.*", message: AuditEvent },
        (message) => {
          received.push(message.id);
          if (received.length === 2) resolve();
        },
        () => {},
      );
    });
    await server.flush();
    publish(client, eventsTopic, event("a"));
    publish(client, eventsTopic, event("b"));
    await done;
    expect(received).toEqual(["a", "b"]);
  });

  it("unsubscribing stops delivery", async () => {
    const { client, server } = await open();
    await serve(server, ping, { queue: "q" }, async () => ({ nowMs: 1 })).unsubscribe();
    await server.flush();
    const error = await request(client, ping, {}, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_RESPONDERS });
  });

  describe("durable streams", () => {
    const spec = {
      name: "EVENTS",
      subjects: ["v1.test.events.>"],
      retention: "limits" as const,
      maxAgeMs: 60_000,
      maxBytes: 4_096,
      duplicateWindowMs: 60_000,
    };

    it("acknowledges only stored messages, with increasing sequence numbers", async () => {
      const { client, server } = await open();
      await server.ensureStream(spec);
      try {
        const first = await publishDurable(client, eventsTopic, event("e1"), {
          msgId: "e1",
          timeoutMs: 2_000,
        });
        const second = await publishDurable(client, eventsTopic, event("e2"), {
          msgId: "e2",
          timeoutMs: 2_000,
        });
        expect(first).toEqual({ seq: 1, duplicate: false });
        expect(second).toEqual({ seq: 2, duplicate: false });
      } finally {
        await server.deleteStream(spec.name);
      }
    });

    it("recognises a repeated message id as a duplicate", async () => {
      const { client, server } = await open();
      await server.ensureStream(spec);
      try {
        await publishDurable(client, eventsTopic, event("same"), { msgId: "same", timeoutMs: 2_000 });
        const again = await publishDurable(client, eventsTopic, event("same"), {
          msgId: "same",
          timeoutMs: 2_000,
        });
        expect(again).toEqual({ seq: 1, duplicate: true });
      } finally {
        await server.deleteStream(spec.name);
      }
    });

    it("refuses with UNAVAILABLE when the stream is full, and keeps what it stored", async () => {
      const { client, server } = await open();
      // Records of about 1.1 kB against a 2.5 kB limit. (nats-server 2.9 checks discard-new against the
      // payload size without the record's overhead, so a message that fits by payload but not by record
      // pushes out the oldest one; production limits are far larger than one record.)
      await server.ensureStream({ ...spec, maxBytes: 2_500 });
      try {
        const big = AuditEvent.fromPartial({ id: "x", userAgent: "u".repeat(1_000) });
        const outcomes: string[] = [];
        for (let i = 0; i < 5; i++) {
          const outcome = await publishDurable(client, eventsTopic, big, { msgId: `m${i}`, timeoutMs: 2_000 })
            .then(() => "stored")
            .catch((e: unknown) => (e instanceof BusError ? (ErrorCode[e.code] ?? "") : "other"));
          outcomes.push(outcome);
        }
        expect(outcomes).toEqual(["stored", "stored", "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE"]);
        expect(await server.streamState(spec.name)).toMatchObject({ messages: 2, firstSeq: 1, lastSeq: 2 });
      } finally {
        await server.deleteStream(spec.name);
      }
      expect(await server.streamState(spec.name)).toBeUndefined();
    });

    it("refuses with UNAVAILABLE when no stream captures the subject", async () => {
      const { client } = await open();
      const error = await publishDurable(client, eventsTopic, event("lost"), {
        msgId: "lost",
        timeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.UNAVAILABLE });
    });
  });

  describe("durable consumers", () => {
    const queue = {
      name: "QUEUE",
      subjects: ["v1.test.events.>"],
      retention: "workqueue" as const,
      maxAgeMs: 0,
      maxBytes: -1,
      duplicateWindowMs: 60_000,
    };
    // The ack wait outlasts a fetch, as in production (a fetch waits up to `expiresMs` to fill its batch).
    const spec = { stream: "QUEUE", durable: "shipper", ackWaitMs: 1_500, maxAckPending: 100 };

    async function filled(count: number) {
      const { client, server } = await open();
      await server.ensureStream(queue);
      for (let i = 1; i <= count; i++) {
        await publishDurable(client, eventsTopic, event(`e${i}`), { msgId: `e${i}`, timeoutMs: 2_000 });
      }
      return server;
    }

    const ids = (messages: DurableMessage[]) => messages.map((m) => AuditEvent.decode(m.payload).id);

    it("delivers in stream order, and an acknowledged message leaves a work queue", async () => {
      const server = await filled(5);
      try {
        const consumer = await server.consumer(spec);
        const first = await consumer.fetch({ max: 3, expiresMs: 1_000 });
        expect(ids(first)).toEqual(["e1", "e2", "e3"]);
        expect(first.map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
        expect(await consumer.state()).toEqual({ pending: 2, ackPending: 3 });
        for (const message of first) await message.ack();
        expect(await server.streamState("QUEUE")).toMatchObject({ messages: 2 });
        const rest = await consumer.fetch({ max: 10, expiresMs: 1_000 });
        expect(ids(rest)).toEqual(["e4", "e5"]);
      } finally {
        await server.deleteStream("QUEUE");
      }
    });

    it("delivers a refused or unacknowledged message again, and resumes in a new process", async () => {
      const server = await filled(3);
      try {
        const consumer = await server.consumer(spec);
        const [first, second] = await consumer.fetch({ max: 2, expiresMs: 1_000 });
        await first?.ack();
        second?.nak(0);
        const again = await consumer.fetch({ max: 2, expiresMs: 1_000 });
        expect(ids(again).sort()).toEqual(["e2", "e3"]);
        expect(again.find((m) => ids([m])[0] === "e2")?.deliveryCount).toBe(2);
        // Nothing acknowledged: a second handle on the durable (a restarted process) gets both again.
        const resumed = await server.consumer(spec);
        const left = await resumed.fetch({ max: 2, expiresMs: 3_000 });
        expect(ids(left).sort()).toEqual(["e2", "e3"]);
        for (const message of left) await message.ack();
        expect(await server.streamState("QUEUE")).toMatchObject({ messages: 0 });
      } finally {
        await server.deleteStream("QUEUE");
      }
    });

    it("returns an empty batch when nothing arrives before it expires", async () => {
      const server = await filled(0);
      try {
        const consumer = await server.consumer(spec);
        expect(await consumer.fetch({ max: 5, expiresMs: 1_000 })).toEqual([]);
      } finally {
        await server.deleteStream("QUEUE");
      }
    });
  });

  describe("leases", () => {
    const ttlMs = 1_000;

    /** Two processes competing for one lease: `a` on the client side, `b` on the server side. */
    async function contenders(name = "shipper") {
      const { client, server } = await open();
      return {
        a: client.lease(name, { holder: "holder-a", ttlMs }),
        b: server.lease(name, { holder: "holder-b", ttlMs }),
      };
    }

    it("has one holder at a time", async () => {
      const { a, b } = await contenders();
      expect(await a.tryAcquire()).toBe(true);
      expect(await b.tryAcquire()).toBe(false);
      expect([a.held, b.held]).toEqual([true, false]);
      expect(await b.tryAcquire()).toBe(false);
    });

    it("keeps the lease past its first TTL while the holder renews", async () => {
      const { a, b } = await contenders();
      expect(await a.tryAcquire()).toBe(true);
      for (let i = 0; i < 4; i++) {
        await Bun.sleep(ttlMs / 3);
        expect(await a.tryAcquire()).toBe(true);
        expect(await b.tryAcquire()).toBe(false);
      }
      expect(a.held).toBe(true);
    });

    it("hands the lease over once the holder fails to renew in time", async () => {
      const { a, b } = await contenders();
      const acquiredAt = Date.now();
      expect(await a.tryAcquire()).toBe(true);
      let takenOver = false;
      while (!takenOver && Date.now() - acquiredAt < ttlMs + 3_000) {
        takenOver = await b.tryAcquire();
        if (!takenOver) await Bun.sleep(50);
      }
      expect(takenOver).toBe(true);
      expect(Date.now() - acquiredAt).toBeGreaterThanOrEqual(ttlMs);
      expect(a.held).toBe(false);
      expect(await a.tryAcquire()).toBe(false);
      expect(b.held).toBe(true);
    });

    it("frees the lease at once on release, and keeps names apart", async () => {
      const { a, b } = await contenders();
      expect(await a.tryAcquire()).toBe(true);
      await a.release();
      expect(a.held).toBe(false);
      expect(await b.tryAcquire()).toBe(true);
      expect(await a.tryAcquire()).toBe(false);
      const other = pair.client.lease("another-lease", { holder: "holder-a", ttlMs });
      expect(await other.tryAcquire()).toBe(true);
    });
  });

  it("lets in-flight handlers reply when the server closes", async () => {
    const { client, server } = await open();
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    serve(server, ping, { queue: "q" }, async () => {
      started();
      await Bun.sleep(100);
      return { nowMs: 7 };
    });
    await server.flush();
    const pending = request(client, ping, {}, { timeoutMs: 3_000 });
    await handlerStarted;
    if (server !== client) {
      await server.close();
      pair.server = client; // already closed; avoid closing twice
    }
    await expect(pending).resolves.toEqual({ nowMs: 7 });
  });
});

describe("NATS bus reconnects", () => {
  it("serves again after the server restarts, without a new connection", async () => {
    const server = await startNatsServer();
    const namespace = uniqueNamespace();
    const options = { url: server.url, namespace, logger: silentLogger };
    const responder = await connectNatsBus({ ...options, name: "responder", reconnectWaitMs: 50 });
    const caller = await connectNatsBus({ ...options, name: "caller", reconnectWaitMs: 50 });
    try {
      serve(responder, ping, { queue: "q" }, async () => ({ nowMs: 1 }));
      await responder.flush();
      await expect(request(caller, ping, {}, { timeoutMs: 2_000 })).resolves.toEqual({ nowMs: 1 });
      await server.stop();
      const during = await request(caller, ping, {}, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(during).toBeInstanceOf(BusError);
      await server.restart();
      let answered = false;
      for (let attempt = 0; attempt < 100 && !answered; attempt++) {
        answered = await request(caller, ping, {}, { timeoutMs: 500 }).then(
          () => true,
          () => false,
        );
        if (!answered) await Bun.sleep(100);
      }
      expect(answered).toBe(true);
      expect(caller.isConnected()).toBe(true);
    } finally {
      await caller.close();
      await responder.close();
      await server.dispose();
    }
  });
});
