/**
 * The coalescing NATS transport: frames of one event-loop turn leave in one write, in order, and nothing
 * pending is lost when the connection closes.
 */
import { silentLogger } from "@secrets/logger";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { connect } from "nats";
import { NodeTransport } from "nats/lib/src/node_transport.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connectNatsBus } from "./nats-bus.ts";
import { CoalescingTransport } from "./nats-transport.ts";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const encoder = new TextEncoder();

afterEach(() => {
  vi.restoreAllMocks();
});

describe("CoalescingTransport", () => {
  it("writes the frames sent from several callbacks of one turn together, in order", async () => {
    const writes: string[] = [];
    vi.spyOn(NodeTransport.prototype, "send").mockImplementation((frame: Uint8Array) => {
      writes.push(new TextDecoder().decode(frame));
    });
    const transport = new CoalescingTransport();
    await new Promise<void>((resolve) => {
      for (const text of ["PUB a 1\r\n1\r\n", "PUB b 1\r\n2\r\n", "PUB c 1\r\n3\r\n"])
        setTimeout(() => transport.send(encoder.encode(text)), 0);
      setTimeout(resolve, 20);
    });
    expect(writes).toEqual(["PUB a 1\r\n1\r\nPUB b 1\r\n2\r\nPUB c 1\r\n3\r\n"]);
    transport.send(encoder.encode("PING\r\n"));
    expect(writes).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(["PUB a 1\r\n1\r\nPUB b 1\r\n2\r\nPUB c 1\r\n3\r\n", "PING\r\n"]);
  });

  it("delivers every message in order, those still pending when the bus closes included", async () => {
    const namespace = uniqueNamespace("coalesce");
    const subject = `${namespace}.v1.test.burst`;
    const listener = await connect({ servers: natsUrl });
    const received: number[] = [];
    const done = new Promise<void>((resolve) => {
      listener.subscribe(subject, {
        callback: (_error, msg) => {
          received.push(Number(new TextDecoder().decode(msg.data)));
          if (received.length === 1_000) resolve();
        },
      });
    });
    await listener.flush();
    const bus = await connectNatsBus({
      url: natsUrl,
      namespace,
      logger: silentLogger,
      name: "coalesce-test",
    });
    for (let i = 0; i < 1_000; i++) bus.publish("v1.test.burst", encoder.encode(String(i)));
    await bus.close();
    await done;
    await listener.close();
    expect(received).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });
});
