/**
 * Fault: PostgreSQL stays away for longer than any connection timeout (half a minute) while a service keeps
 * asking. The vault process survives it, answers every call in time (from its cache, or UNAVAILABLE), and
 * serves reads and writes again once the database is back, without a restart.
 *
 * Runs on a throwaway cluster of its own: the machine's shared PostgreSQL is never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminBusClient } from "../../support/admin-bus-client.ts";
import type { CallOutcome } from "../../support/grpc-client.ts";
import { startLoad, waitUntil } from "../../support/load.ts";
import type { PostgresCluster } from "../../support/postgres-cluster.ts";
import { type ServiceProcess, startService } from "../../support/processes.ts";
import type { Stack } from "../../support/stack.ts";
import { startVaultOnCluster, type VaultOnCluster } from "../../support/vault-on-cluster.ts";

const value = `billing-key-${crypto.randomUUID()}`;
const deadlineMs = 3_000;
const outageMs = 30_000;
let fixture: VaultOnCluster;
let cluster: PostgresCluster;
let databaseUrl: string;
let stack: Stack;
let vault: ServiceProcess;
let grpc: VaultOnCluster["grpc"];
let admin: AdminBusClient;
let service: VaultOnCluster["service"];

beforeAll(async () => {
  fixture = await startVaultOnCluster({
    database: "vault_outage",
    serviceName: "billing",
    secret: { name: "BILLING_KEY", value },
    deadlineMs,
  });
  ({ cluster, databaseUrl, stack, vault, grpc, admin, service } = fixture);
});

afterAll(async () => {
  await fixture?.dispose();
});

describe("PostgreSQL away for half a minute", () => {
  it("keeps the vault up, answering in time, and serving again when the database is back", {
    timeout: 120_000,
  }, async () => {
    // Stubs always need the database; the granted read may be served from the vault's cache.
    const calls = startLoad({ workers: 2, maxDurationMs: 100_000, pauseMs: 50 }, (worker, i) =>
      i % 2 === 0
        ? grpc.getSecret("BILLING_KEY", service.token, { deadlineMs })
        : grpc.getSecret(`ASKED_${worker}_${i}`, service.token, { deadlineMs }),
    );
    let vaultExited = false;
    void vault.exited.then(() => {
      vaultExited = true;
    });
    await calls.waitForCalls(20);
    await cluster.stop({ mode: "immediate" });
    const stoppedAt = Date.now();
    await Bun.sleep(outageMs);
    await cluster.start();
    const startedAt = Date.now();
    await waitUntil(
      () =>
        calls
          .between(Date.now() - 1_000)
          .some((c) => (c.result as CallOutcome<unknown> | undefined)?.reason === "SECRET_STUB_CREATED"),
      "the vault to create stubs again",
    );
    const recoveredAt = Date.now();
    const done = await calls.stop();

    expect(vaultExited).toBe(false);
    expect(done.every((c) => c.error === undefined)).toBe(true);
    expect(Math.max(...done.map((c) => c.durationMs))).toBeLessThan(deadlineMs + 500);
    const outcomes = done.map((c) => c.result as CallOutcome<{ value: string }>);
    for (const outcome of outcomes) {
      expect(["OK", "NOT_FOUND", "UNAVAILABLE"]).toContain(outcome.code);
      if (outcome.ok) expect(outcome.response?.value).toBe(value);
    }
    const whileDown = done.filter((c) => c.startedAt > stoppedAt + 2_000 && c.endedAt < startedAt);
    expect(whileDown.length).toBeGreaterThan(20);
    expect(whileDown.some((c) => (c.result as CallOutcome<unknown>).code === "UNAVAILABLE")).toBe(true);
    expect(recoveredAt - startedAt).toBeLessThan(20_000);
    expect(vault.lines.filter((line) => line.includes('"vault ready"'))).toHaveLength(1);
    // Writes work again too.
    await admin.putSecret("AFTER_OUTAGE", { value: "written after the outage" });
  });

  it("lets a vault started while PostgreSQL is down wait for it, saying so, instead of exiting", {
    timeout: 60_000,
  }, async () => {
    await cluster.stop({ mode: "fast" });
    const waiting = await startService("vault", "services/vault/src/main.ts", {
      env: stack.env({
        DATABASE_URL: databaseUrl,
        SECRETS_DATA_DIR: stack.vaultDataDir,
        DATABASE_POOL_SIZE: "2",
      }),
      readyLog: "cannot reach PostgreSQL yet; retrying until it answers",
    });
    try {
      const warning = waiting.lines.find((line) => line.includes("cannot reach PostgreSQL yet"));
      expect(warning).toMatch(/ECONNREFUSED/);
      expect(warning).not.toContain(databaseUrl); // the URL may hold a password
      await Bun.sleep(2_000);
      expect(waiting.lines.some((line) => line.includes('"vault ready"'))).toBe(false);
      await cluster.start();
      await waiting.waitForLog("vault ready", 30_000);
    } finally {
      await waiting.stop();
    }
  });
});
