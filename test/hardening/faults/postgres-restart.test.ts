/**
 * Fault: PostgreSQL crashes and restarts (`pg_ctl stop -m immediate`, recovery from the WAL) while services
 * read secrets, ask for missing ones (a stub and its access request, one transaction) and an admin stores
 * new secrets (a secret, its first version and its audit event, one transaction). The vault answers cleanly
 * while the database is away, recovers by itself, and no half-written row is left behind.
 *
 * Runs on a throwaway cluster of its own: the machine's shared PostgreSQL is never restarted.
 */
import { BusError, ErrorCode } from "@secrets/bus";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminBusClient } from "../../support/admin-bus-client.ts";
import type { CallOutcome } from "../../support/grpc-client.ts";
import { startLoad, waitUntil } from "../../support/load.ts";
import type { PostgresCluster } from "../../support/postgres-cluster.ts";
import type { ServiceProcess } from "../../support/processes.ts";
import { startVaultOnCluster, type VaultOnCluster } from "../../support/vault-on-cluster.ts";

const value = `ledger-db-${crypto.randomUUID()}`;
const deadlineMs = 3_000;
let fixture: VaultOnCluster;
let cluster: PostgresCluster;
let databaseUrl: string;
let vault: ServiceProcess;
let grpc: VaultOnCluster["grpc"];
let admin: AdminBusClient;
let service: VaultOnCluster["service"];

beforeAll(async () => {
  fixture = await startVaultOnCluster({
    database: "vault_restart",
    serviceName: "ledger",
    secret: { name: "LEDGER_DB_URL", value },
    deadlineMs,
  });
  ({ cluster, databaseUrl, vault, grpc, admin, service } = fixture);
});

afterAll(async () => {
  await fixture?.dispose();
});

/** What a bus call ended with: "OK" or the BusError's code name. */
async function busOutcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "OK";
  } catch (error) {
    if (error instanceof BusError) return ErrorCode[error.code] ?? String(error.code);
    throw error;
  }
}

describe("PostgreSQL restarted under load", () => {
  it("fails cleanly while it is away, recovers by itself, and leaves no half-written rows", {
    timeout: 90_000,
  }, async () => {
    const reads = startLoad({ workers: 2, maxDurationMs: 60_000, pauseMs: 5 }, () =>
      grpc.getSecret("LEDGER_DB_URL", service.token, { deadlineMs }),
    );
    const stubs = startLoad({ workers: 2, maxDurationMs: 60_000, pauseMs: 5 }, async (worker, i) => {
      const name = `STUB_${worker}_${i}`;
      return {
        name,
        outcome: await grpc.getSecret(name, service.token, { deadlineMs, description: "asked" }),
      };
    });
    const puts = startLoad({ workers: 2, maxDurationMs: 60_000, pauseMs: 5 }, async (worker, i) => {
      const name = `PUT_${worker}_${i}`;
      return { name, outcome: await busOutcome(() => admin.putSecret(name, { value: `v-${name}` })) };
    });
    await Promise.all([reads.waitForCalls(30), stubs.waitForCalls(30), puts.waitForCalls(30)]);

    const crashedAt = Date.now();
    await cluster.restart({ mode: "immediate", downMs: 1_500 });
    const restartedAt = Date.now();
    await waitUntil(
      () =>
        reads.between(Date.now() - 300).some((c) => c.result?.ok) &&
        puts.between(Date.now() - 300).some((c) => c.result?.outcome === "OK") &&
        stubs.between(Date.now() - 300).some((c) => c.result?.outcome.reason === "SECRET_STUB_CREATED"),
      "the vault to serve reads, stubs and writes again",
    ).catch((error: unknown) => {
      // What the vault said last, for whoever reads the failure.
      const said = vault.lines.filter((line) => /"level":"(warn|error)"/.test(line)).slice(-15);
      console.error(
        `vault's last warnings:\n${said.join("\n")}\ndatabase log:\n${cluster.log().slice(-3000)}`,
      );
      throw error;
    });
    const recoveredAt = Date.now();
    const [readCalls, stubCalls, putCalls] = await Promise.all([reads.stop(), stubs.stop(), puts.stop()]);

    // Every call ended in time, with an answer or a clean UNAVAILABLE: never INTERNAL, never a hang.
    const all = [...readCalls, ...stubCalls, ...putCalls];
    expect(all.every((c) => c.error === undefined)).toBe(true);
    expect(Math.max(...all.map((c) => c.durationMs))).toBeLessThan(deadlineMs + 500);
    const readOutcomes = readCalls.map((c) => c.result as CallOutcome<{ value: string }>);
    expect(readOutcomes.every((o) => o.code === "OK" || o.code === "UNAVAILABLE")).toBe(true);
    for (const o of readOutcomes) if (o.ok) expect(o.response?.value).toBe(value);
    const stubOutcomes = stubCalls.map((c) => c.result?.outcome as CallOutcome<unknown>);
    expect(stubOutcomes.every((o) => o.reason === "SECRET_STUB_CREATED" || o.code === "UNAVAILABLE")).toBe(
      true,
    );
    expect(putCalls.every((c) => c.result?.outcome === "OK" || c.result?.outcome === "UNAVAILABLE")).toBe(
      true,
    );
    // The outage was felt by the writes (reads may be answered from a cache, which is fine).
    const during = (calls: typeof all) =>
      calls.filter((c) => c.startedAt >= crashedAt && c.endedAt <= restartedAt);
    expect(
      during(stubCalls).some(
        (c) => (c.result as { outcome: CallOutcome<unknown> }).outcome.code === "UNAVAILABLE",
      ),
    ).toBe(true);
    expect(during(putCalls).some((c) => (c.result as { outcome: string }).outcome === "UNAVAILABLE")).toBe(
      true,
    );
    expect(recoveredAt - restartedAt).toBeLessThan(20_000);
    // Recovered without a vault restart.
    expect(vault.lines.filter((line) => line.includes('"vault ready"'))).toHaveLength(1);

    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // A secret with a value always has that value's version row (written in the same transaction).
      const valueWithoutVersion = await sql`
        select s.name from secrets s
        where s.value_encrypted is not null
          and not exists (select 1 from secret_versions v where v.secret_id = s.id and v.version = s.version)`;
      expect(valueWithoutVersion).toEqual([]);
      // A stub always has the access request of the service that asked for it.
      const stubWithoutRequest = await sql`
        select s.name from secrets s
        where s.is_stub and not exists (select 1 from access_requests a where a.secret_id = s.id)`;
      expect(stubWithoutRequest).toEqual([]);
      // What the vault acknowledged is there, whole.
      const stored = new Map(
        (await sql`select name, version, value_encrypted is not null as has_value from secrets`).map((r) => [
          r.name as string,
          r,
        ]),
      );
      for (const call of putCalls.filter((c) => c.result?.outcome === "OK")) {
        expect(stored.get(call.result?.name ?? "")).toMatchObject({ version: 1, has_value: true });
      }
      for (const call of stubCalls.filter((c) => c.result?.outcome.reason === "SECRET_STUB_CREATED")) {
        expect(stored.has(call.result?.name ?? "")).toBe(true);
      }
      // A write that failed left nothing behind or everything: retrying it now completes it.
      const failedPut = putCalls.find((c) => c.result?.outcome === "UNAVAILABLE")?.result?.name ?? "";
      await admin.putSecret(failedPut, { value: `v-${failedPut}` });
      const [retried] = await sql`select version from secrets where name = ${failedPut}`;
      expect(retried?.version).toBeGreaterThanOrEqual(1);
    } finally {
      await sql.end();
    }
  });
});
