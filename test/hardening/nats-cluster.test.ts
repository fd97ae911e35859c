/**
 * Highly available on a NATS cluster: three real nats-server nodes (routes, JetStream, a store each), two
 * vaults, two gateways and the audit service shipping to the Loki stand-in, every process given all three
 * URLs and AUDIT_STREAM_REPLICAS=3. Under steady GetSecret load the node leading the audit stream is
 * killed (SIGKILL) and brought back, then a second node. Every call that returned a value has its audit
 * event in Loki exactly once; calls during an election fail cleanly (UNAVAILABLE) within a bounded window;
 * nothing is restarted but the nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../support/admin-bus-client.ts";
import { type CallOutcome, secretsClient } from "../support/grpc-client.ts";
import { startLoad, type TimedCall, waitUntil } from "../support/load.ts";
import { type LokiReceiver, startLokiReceiver } from "../support/loki-receiver.ts";
import { type NatsCluster, startNatsCluster } from "../support/nats-cluster.ts";
import { provisionService } from "../support/provision.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

/** The longest stretch without a successful call that a killed node may cause (README: "Outgrowing one machine"). */
const unavailabilityBoundMs = 15_000;
const callDeadlineMs = 4_000;

let cluster: NatsCluster;
let loki: LokiReceiver;
let stack: Stack;
const gateways: { address: string; caFile: string }[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  loki = await startLokiReceiver();
  stack = await createStack({ natsUrl: cluster.urls });
  const ha = { AUDIT_STREAM_REPLICAS: "3" };
  const vaultEnv = { ...ha, AUDIT_PUBLISH_TIMEOUT_MS: "1500", GATEWAY_VAULT_TIMEOUT_MS: "3000" };
  await stack.startVault(vaultEnv);
  await stack.startVault(vaultEnv);
  for (let i = 0; i < 2; i++)
    gateways.push(await stack.startGateway({ ...ha, GATEWAY_VAULT_TIMEOUT_MS: "3000" }));
  await stack.startAudit({
    ...ha,
    LOKI_URL: loki.url,
    AUDIT_ENV: "ha",
    AUDIT_BATCH_MAX: "50",
    AUDIT_ACK_WAIT_MS: "2000",
    AUDIT_LEASE_TTL_MS: "3000",
    AUDIT_RETRY_BASE_MS: "100",
    AUDIT_RETRY_MAX_MS: "1000",
  });
}, 90_000);

afterAll(async () => {
  await stack?.dispose();
  await loki?.stop();
  await cluster?.dispose();
});

/** The longest stretch, in ms, between two successful calls (or the edges of the load). */
function longestGap(calls: TimedCall<CallOutcome<unknown>>[]): number {
  const okEnds = calls
    .filter((call) => call.result?.ok)
    .map((call) => call.endedAt)
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < okEnds.length; i++)
    longest = Math.max(longest, (okEnds[i] ?? 0) - (okEnds[i - 1] ?? 0));
  return longest;
}

describe("on a three-node NATS cluster with AUDIT_STREAM_REPLICAS=3", () => {
  it("loses no audit event and stays available when the stream's leader, then another node, is killed", async () => {
    const stream = `${stack.namespace.toUpperCase().replaceAll("-", "_")}_AUDIT`;
    const clients = gateways.map((gateway) => secretsClient(gateway.address, gateway.caFile));
    const [first] = clients;
    if (!first) throw new Error("no gateway");
    const service = { name: "replicated", token: newServiceToken() };
    await provisionService(first, adminBusClient(stack.bus), service, { HA_DB_URL: "ha-value" });
    await cluster.waitForReplicas(stream, 3);

    const load = startLoad({ workers: 4, maxDurationMs: 90_000, pauseMs: 5 }, (worker) =>
      (clients[worker % clients.length] ?? first).getSecret("HA_DB_URL", service.token, {
        deadlineMs: callDeadlineMs,
      }),
    );
    const killed: string[] = [];
    const outage = async (pick: () => Promise<string>) => {
      await load.waitForCalls(50);
      const name = await pick();
      const node = cluster.nodes.find((candidate) => candidate.name === name);
      if (!node) throw new Error(`no node named ${name}`);
      killed.push(name);
      await node.kill();
      await Bun.sleep(4_000);
      await node.start();
      await cluster.waitForReplicas(stream, 3, 45_000);
    };
    try {
      // The leader first: the stream must elect another while it is gone.
      await outage(() => cluster.leaderOf(stream));
      // Then a second node: the new leader if it is another node, else any node not yet killed.
      await outage(async () => {
        const leader = await cluster.leaderOf(stream);
        return leader !== killed[0] ? leader : (cluster.nodes.find((n) => n.name !== killed[0])?.name ?? "");
      });
      await load.waitForCalls(50);
    } finally {
      await load.stop();
      for (const client of clients) client.close();
    }

    const calls = load.calls;
    const outcomes = calls.map((call) => call.result);
    const served = outcomes.filter((o) => o?.ok);
    const failed = outcomes.filter((o) => o && !o.ok);
    expect(calls.every((call) => call.error === undefined)).toBe(true);
    expect(failed.map((o) => o?.code).filter((code) => code !== "UNAVAILABLE")).toEqual([]);
    expect(served.every((o) => o?.response?.value === "ha-value")).toBe(true);
    const gap = longestGap(calls);
    expect(gap).toBeLessThan(unavailabilityBoundMs);
    // Served again after both outages, by the same processes: nothing but the nodes was restarted.
    expect(calls.slice(-20).every((call) => call.result?.ok)).toBe(true);

    const servedIds = new Set(served.map((o) => o?.requestId ?? ""));
    const shipped = () =>
      loki
        .entries()
        .map((entry) => JSON.parse(entry.line) as { request_id?: string; event?: string })
        .filter((line) => line.event === "secret.get" && servedIds.has(line.request_id ?? ""));
    await waitUntil(
      () => new Set(shipped().map((line) => line.request_id)).size === servedIds.size,
      "every served call's event in Loki",
      60_000,
      250,
    );
    const perRequest = new Map<string, number>();
    for (const line of shipped())
      perRequest.set(line.request_id ?? "", (perRequest.get(line.request_id ?? "") ?? 0) + 1);
    expect([...perRequest.values()].filter((count) => count !== 1)).toEqual([]);
    console.info(
      `killed ${killed.join(" then ")}; ${calls.length} calls, ${served.length} served, ${failed.length} refused UNAVAILABLE; ` +
        `longest stretch without a served call ${gap} ms; ${servedIds.size} audit events checked in Loki, each once`,
    );
  }, 180_000);
});
