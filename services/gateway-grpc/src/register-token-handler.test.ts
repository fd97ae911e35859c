import { status } from "@grpc/grpc-js";
import { forwardToken, serve, serviceOperations, vaultQueue } from "@secrets/bus";
import { TokenStatus } from "@secrets/proto/secrets";
import type { VaultRegisterTokenRequest } from "@secrets/proto/vault";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, manualClock, registerToken, startGateway, text } from "../test/harness.ts";

const token = "A".repeat(43);
const valid = { serviceName: "identity-service", serviceVersion: "1.4.2", token };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function fakeVault(h: Harness) {
  const seen: VaultRegisterTokenRequest[] = [];
  serve(h.bus, serviceOperations.registerToken, { queue: vaultQueue }, async (request) => {
    seen.push(request);
    return { status: TokenStatus.PENDING_APPROVAL, message: "Waiting for an admin to approve the token" };
  });
  return seen;
}

describe("RegisterToken", () => {
  it("returns the vault's status and message, and passes the caller along", async () => {
    harness = await startGateway();
    const seen = fakeVault(harness);
    const result = await registerToken(harness, valid);
    expect(result.response).toEqual({
      status: TokenStatus.PENDING_APPROVAL,
      message: "Waiting for an admin to approve the token",
    });
    expect(seen[0]).toMatchObject({
      serviceName: "identity-service",
      serviceVersion: "1.4.2",
      token: forwardToken(token), // only its hash crosses the bus
    });
    expect(seen[0]?.caller).toMatchObject({
      ipAddress: "127.0.0.1",
      requestId: text(result.initial, "secrets-request-id"),
    });
    expect(seen[0]?.caller?.userAgent).toMatch(/grpc-node-js/);
  });

  it.each([
    ["service_name", { serviceName: "Identity Service" }],
    ["service_name", { serviceName: "" }],
    ["service_version", { serviceVersion: "v".repeat(65) }],
    ["token", { token: "A".repeat(42) }],
    ["token", { token: `${"A".repeat(42)}+/` }],
    ["token", { token: "" }],
  ])("refuses an invalid %s with INVALID_ARGUMENT before the bus", async (field, change) => {
    harness = await startGateway();
    const seen = fakeVault(harness);
    const result = await registerToken(harness, { ...valid, ...change });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(result.error?.details).toContain(`${field}:`);
    expect(seen).toHaveLength(0);
  });

  it("limits registrations per peer address, refilling with time", async () => {
    const clock = manualClock();
    harness = await startGateway({
      now: clock.now,
      rateLimits: { registerPerMinute: 3, authFailuresPerMinute: 20 },
    });
    const seen = fakeVault(harness);
    for (let i = 0; i < 3; i++) expect((await registerToken(harness, valid)).error).toBeUndefined();
    const refused = await registerToken(harness, valid);
    expect(refused.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(text(refused.trailers, "secrets-reason")).toBe("RATE_LIMITED");
    expect(refused.error?.details).toMatch(/Too many token registrations.*try again in 20 s/);
    expect(seen).toHaveLength(3);

    clock.advance(20_000);
    expect((await registerToken(harness, valid)).error).toBeUndefined();
    expect((await registerToken(harness, valid)).error?.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("counts invalid registrations against the limit too", async () => {
    const clock = manualClock();
    harness = await startGateway({
      now: clock.now,
      rateLimits: { registerPerMinute: 2, authFailuresPerMinute: 20 },
    });
    fakeVault(harness);
    await registerToken(harness, { ...valid, token: "short" });
    await registerToken(harness, { ...valid, token: "short" });
    expect((await registerToken(harness, valid)).error?.code).toBe(status.RESOURCE_EXHAUSTED);
  });
});
