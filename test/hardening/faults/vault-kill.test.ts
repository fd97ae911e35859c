/**
 * Fault: the vault is killed with SIGKILL while services read secrets through a gateway. Every call ends
 * within its deadline; the ones the vault cannot answer get UNAVAILABLE (never a hang, never INTERNAL, never
 * a value they should not get), and service comes back as soon as a vault does, with the same gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../../support/admin-bus-client.ts";
import { type CallOutcome, secretsClient } from "../../support/grpc-client.ts";
import { startLoad, waitUntil } from "../../support/load.ts";
import type { ServiceProcess } from "../../support/processes.ts";
import { provisionService } from "../../support/provision.ts";
import { createStack, type Stack } from "../../support/stack.ts";
import { newServiceToken } from "../../support/tokens.ts";

let stack: Stack;
let vault: ServiceProcess;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let grpc: ReturnType<typeof secretsClient>;
const service = { name: "orders", token: newServiceToken() };
const value = `orders-db-${crypto.randomUUID()}`;
const deadlineMs = 2_000;

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault();
  gateway = await stack.startGateway();
  grpc = secretsClient(gateway.address, gateway.caFile);
  await provisionService(grpc, adminBusClient(stack.bus), service, { ORDERS_DB_URL: value });
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

describe("kill -9 of the vault under load", () => {
  it("answers UNAVAILABLE within the deadline, and serves again when a vault is back, same gateway", {
    timeout: 90_000,
  }, async () => {
    const load = startLoad({ workers: 8, maxDurationMs: 60_000 }, () =>
      grpc.getSecret("ORDERS_DB_URL", service.token, { deadlineMs }),
    );
    await load.waitForCalls(200);
    const killedAt = Date.now();
    await vault.kill();
    await load.waitForCalls(100);
    await Bun.sleep(deadlineMs); // long enough for calls the dead vault had taken to run out
    const restartedAt = Date.now();
    vault = await stack.startVault();
    const isOk = (c: { result?: CallOutcome<unknown> }) => c.result?.ok === true;
    await waitUntil(() => load.between(Date.now() - 500).filter(isOk).length >= 50, "service to resume");
    const recoveredAt = Date.now();
    await load.waitForCalls(100);
    const calls = await load.stop();

    // Nothing hung, and nothing failed in an unclean way.
    expect(calls.every((c) => c.error === undefined)).toBe(true);
    const outcomes = calls.map((c) => c.result as CallOutcome<{ value: string }>);
    expect(Math.max(...calls.map((c) => c.durationMs))).toBeLessThan(deadlineMs + 500);
    expect(new Set(outcomes.map((o) => o.code))).toEqual(new Set(["OK", "UNAVAILABLE"]));
    for (const outcome of outcomes) {
      if (outcome.ok) expect(outcome.response?.value).toBe(value);
      else {
        expect(outcome.details).toMatch(/vault/i);
        expect(JSON.stringify(outcome)).not.toContain(value);
      }
    }

    // While no vault ran, every call failed fast and cleanly.
    const whileDown = load.between(killedAt + 100, restartedAt).map((c) => c.result as CallOutcome<unknown>);
    expect(whileDown.length).toBeGreaterThan(50);
    expect(whileDown.every((o) => o.code === "UNAVAILABLE")).toBe(true);
    // It took a new vault process, not a new gateway: the gateway never restarted.
    expect(recoveredAt - restartedAt).toBeLessThan(15_000);
    expect(gateway.process.lines.filter((line) => line.includes('"gateway listening"'))).toHaveLength(1);
    // Once it serves again, it keeps serving.
    const afterRecovery = load.between(recoveredAt).map((c) => c.result as CallOutcome<unknown>);
    expect(afterRecovery.length).toBeGreaterThan(50);
    expect(afterRecovery.filter((o) => !o.ok)).toEqual([]);
  });
});
