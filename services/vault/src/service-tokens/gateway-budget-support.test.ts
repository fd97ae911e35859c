/**
 * What the vault gives the gateways' budgets, on real PostgreSQL and NATS: the keys of the approved
 * tokens (and an event whenever a token's status changes), and audit summaries of the calls they refused.
 */
import {
  AuditEventName,
  approvedTokenKey,
  BusError,
  ErrorCode,
  forwardToken,
  request,
  serviceOperations,
  serviceTokensChangedTopic,
  subscribe,
  unpackApprovedTokenKeys,
} from "@secrets/bus";
import { readAuditStream } from "@secrets/test/support/audit-stream";
import { newServiceToken } from "@secrets/test/support/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvedService, natsUrl, startVaultCluster, type VaultCluster } from "../../test/harness.ts";
import { hashToken } from "./token-hash.ts";

let cluster: VaultCluster;
beforeAll(async () => {
  cluster = await startVaultCluster();
  await cluster.startReplica();
});
afterAll(async () => {
  await cluster?.dispose();
});

const keys = async () =>
  new Set(
    unpackApprovedTokenKeys(
      (await request(cluster.client, serviceOperations.approvedTokenKeys, {}, { timeoutMs: 5_000 })).keys,
    ),
  );

describe("approved token keys", () => {
  it("holds the key of every approved token and of no other, and announces each status change", async () => {
    const changes: number[] = [];
    const subscription = subscribe(
      cluster.client,
      serviceTokensChangedTopic,
      () => changes.push(1),
      () => {},
    );
    try {
      const approved = await approvedService(cluster, "keyed");
      const pending = newServiceToken();
      await request(
        cluster.client,
        serviceOperations.registerToken,
        { serviceName: "waiting", serviceVersion: "1", token: pending, caller: undefined },
        { timeoutMs: 5_000 },
      );
      const before = await keys();
      expect(before.has(approvedTokenKey(hashToken(approved.token)))).toBe(true);
      expect(before.has(approvedTokenKey(hashToken(pending)))).toBe(false);
      await expect.poll(() => changes.length).toBeGreaterThanOrEqual(1);

      const seen = changes.length;
      await cluster.admin.revokeToken(approved.tokenId);
      await expect.poll(() => changes.length).toBeGreaterThan(seen);
      expect((await keys()).has(approvedTokenKey(hashToken(approved.token)))).toBe(false);
    } finally {
      await subscription.unsubscribe();
    }
  });
});

describe("throttle reports", () => {
  it("writes one calls.throttled event per summary, naming the service of a known token", async () => {
    const service = await approvedService(cluster, "flooded");
    await request(
      cluster.client,
      serviceOperations.reportThrottled,
      {
        entries: [
          {
            method: "GetSecret",
            budget: "token",
            token: forwardToken(service.token),
            ipAddress: "203.0.113.9",
            count: 70,
            firstMs: 1_800_000_000_000,
            lastMs: 1_800_000_001_000,
          },
          {
            method: "RegisterToken",
            budget: "address",
            token: "",
            ipAddress: "203.0.113.10",
            count: 3,
            firstMs: 1_800_000_000_000,
            lastMs: 1_800_000_000_500,
          },
        ],
      },
      { timeoutMs: 5_000 },
    );
    const events = (await readAuditStream(natsUrl, cluster.namespace))
      .map((stored) => stored.event)
      .filter((event) => event.event === AuditEventName.callsThrottled);
    expect(events).toHaveLength(2);
    expect(events.find((event) => event.ipAddress === "203.0.113.9")).toMatchObject({
      serviceName: "flooded",
      refusedCalls: 70,
      reason: "RATE_LIMITED",
      success: false,
    });
    expect(events.find((event) => event.ipAddress === "203.0.113.10")).toMatchObject({
      serviceName: "",
      refusedCalls: 3,
    });
    expect(JSON.stringify(events)).not.toContain(service.token);
    expect(JSON.stringify(events)).not.toContain(hashToken(service.token));
  });

  it("refuses a report it cannot trust: too many entries, an unknown method, a raw token", async () => {
    const entry = {
      method: "GetSecret",
      budget: "address",
      token: "",
      ipAddress: "",
      count: 1,
      firstMs: 0,
      lastMs: 0,
    };
    const report = (entries: (typeof entry)[]) =>
      request(cluster.client, serviceOperations.reportThrottled, { entries }, { timeoutMs: 5_000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
    for (const entries of [
      Array(101).fill(entry),
      [{ ...entry, method: "DropTables" }],
      [{ ...entry, token: newServiceToken() }],
      [{ ...entry, count: 0 }],
    ]) {
      const refused = await report(entries);
      expect(refused).toBeInstanceOf(BusError);
      expect((refused as BusError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
  });
});
