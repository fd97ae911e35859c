import { type ClientReadableStream, Metadata, status } from "@grpc/grpc-js";
import { serve, serviceOperations, vaultQueue } from "@secrets/bus";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, manualClock, startGateway } from "../test/harness.ts";
import { type HealthCheckResponse, ServingStatus } from "./health-proto.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function check(h: Harness, service: string): Promise<{ status?: ServingStatus; code?: status }> {
  return new Promise((resolve) => {
    h.health.check({ service }, new Metadata(), { deadline: Date.now() + 3_000 }, (error, response) =>
      resolve(error ? { code: error.code } : { status: response.status }),
    );
  });
}

function servePing(h: Harness) {
  return serve(h.bus, serviceOperations.ping, { queue: vaultQueue }, async () => ({ nowMs: Date.now() }));
}

/** Collects a Watch stream's statuses; `next()` resolves with the next one. */
function watch(h: Harness, service: string) {
  const stream: ClientReadableStream<HealthCheckResponse> = h.health.watch({ service });
  const queue: ServingStatus[] = [];
  const waiting: ((value: ServingStatus) => void)[] = [];
  stream.on("data", (message: HealthCheckResponse) => {
    const resolve = waiting.shift();
    if (resolve) resolve(message.status);
    else queue.push(message.status);
  });
  stream.on("error", () => {});
  return {
    next: () =>
      new Promise<ServingStatus>((resolve) => {
        const queued = queue.shift();
        if (queued !== undefined) resolve(queued);
        else waiting.push(resolve);
      }),
    cancel: () => stream.cancel(),
  };
}

describe("grpc.health.v1.Health", () => {
  it("flips between SERVING and NOT_SERVING with the vault's presence", async () => {
    const clock = manualClock();
    harness = await startGateway({ now: clock.now });
    for (const service of ["", "secrets.v1.SecretsService"]) {
      expect(await check(harness, service)).toEqual({ status: ServingStatus.NOT_SERVING });
    }
    const ping = servePing(harness);
    clock.advance(2_000); // past the freshness window, so Check pings again
    for (const service of ["", "secrets.v1.SecretsService"]) {
      expect(await check(harness, service)).toEqual({ status: ServingStatus.SERVING });
    }
    await ping.unsubscribe();
    clock.advance(2_000);
    expect(await check(harness, "")).toEqual({ status: ServingStatus.NOT_SERVING });
  });

  it("answers NOT_FOUND for a service it does not know", async () => {
    harness = await startGateway();
    expect(await check(harness, "secrets.v1.Other")).toEqual({ code: status.NOT_FOUND });
  });

  it("streams changes to Watch, and SERVICE_UNKNOWN for an unknown service", async () => {
    const clock = manualClock();
    harness = await startGateway({ now: clock.now });
    const watcher = watch(harness, "secrets.v1.SecretsService");
    expect(await watcher.next()).toBe(ServingStatus.NOT_SERVING);
    const ping = servePing(harness);
    clock.advance(2_000);
    await harness.gateway.health.ping();
    expect(await watcher.next()).toBe(ServingStatus.SERVING);
    await ping.unsubscribe();
    await harness.gateway.health.ping();
    expect(await watcher.next()).toBe(ServingStatus.NOT_SERVING);
    watcher.cancel();

    const unknown = watch(harness, "nope.Service");
    expect(await unknown.next()).toBe(ServingStatus.SERVICE_UNKNOWN);
    unknown.cancel();
  });

  it("reports NOT_SERVING once shutting down and ends open watches", async () => {
    harness = await startGateway();
    servePing(harness);
    await harness.gateway.health.ping();
    const watcher = watch(harness, "");
    expect(await watcher.next()).toBe(ServingStatus.SERVING);
    const h = harness;
    harness = undefined;
    await h.close();
    expect(await watcher.next()).toBe(ServingStatus.NOT_SERVING);
  });

  it("treats an old answer as stale when background pings stop coming", async () => {
    const clock = manualClock();
    harness = await startGateway({ now: clock.now, health: { intervalMs: 5_000, pingTimeoutMs: 1_000 } });
    servePing(harness);
    await harness.gateway.health.ping();
    expect(harness.gateway.health.isServing()).toBe(true);
    clock.advance(11_001);
    expect(harness.gateway.health.isServing()).toBe(false);
  });
});
