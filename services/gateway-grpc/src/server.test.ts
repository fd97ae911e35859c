import { credentials, Metadata, status } from "@grpc/grpc-js";
import { serve, serviceOperations, vaultQueue } from "@secrets/bus";
import { SecretsServiceClient } from "@secrets/proto/secrets";
import { describe, expect, it } from "vitest";
import { getSecret, startGateway } from "../test/harness.ts";
import { hostPort } from "./server.ts";

const valid = { secretName: "API_KEY", description: "", token: "t".repeat(43) };

describe("createGatewayServer", () => {
  it("lets an in-flight call finish on shutdown, then refuses new ones", async () => {
    const harness = await startGateway();
    serve(harness.bus, serviceOperations.getSecret, { queue: vaultQueue }, async () => {
      await Bun.sleep(300);
      return { value: "slow but sure" };
    });
    const inFlight = getSecret(harness, valid);
    await Bun.sleep(100);
    const started = performance.now();
    await harness.gateway.shutdown(5_000);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await inFlight).response?.value).toBe("slow but sure");

    // A fresh client (no reusable connection) cannot reach the stopped server.
    const fresh = new SecretsServiceClient(`localhost:${harness.port}`, credentials.createInsecure());
    const code = await new Promise<status | undefined>((resolve) => {
      fresh.getSecret(valid, new Metadata(), { deadline: Date.now() + 1_000 }, (error) =>
        resolve(error?.code),
      );
    });
    expect(code).toBe(status.UNAVAILABLE);
    fresh.close();
    harness.client.close();
    harness.health.close();
    await harness.bus.close();
  });

  it("cancels calls still running when the grace period ends", async () => {
    const harness = await startGateway();
    serve(harness.bus, serviceOperations.getSecret, { queue: vaultQueue }, () => new Promise(() => {}));
    const stuck = getSecret(harness, valid, { deadlineMs: 10_000 });
    await Bun.sleep(100);
    const started = performance.now();
    await harness.gateway.shutdown(200);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await stuck).error?.code).toBeDefined();
    await harness.close();
  });

  it("formats listen addresses for IPv4, IPv6 and names", () => {
    expect(hostPort("0.0.0.0", 50051)).toBe("0.0.0.0:50051");
    expect(hostPort("::", 50051)).toBe("[::]:50051");
    expect(hostPort("localhost", 1)).toBe("localhost:1");
  });
});
