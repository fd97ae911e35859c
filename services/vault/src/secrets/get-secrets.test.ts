/**
 * GetSecrets on the vault, on real PostgreSQL and NATS: one token check, one outcome and one audit event
 * per secret, every event stored before any value leaves, and nothing at all when the audit trail refuses.
 */
import { ErrorCode, Reason } from "@secrets/bus";
import { deleteAuditStream, readAuditStream } from "@secrets/test/support/audit-stream";
import { refusal } from "@secrets/test/support/bus-refusal";
import { newServiceToken } from "@secrets/test/support/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approvedService,
  getSecrets,
  natsUrl,
  startVaultCluster,
  type VaultCluster,
} from "../../test/harness.ts";

let cluster: VaultCluster;
beforeAll(async () => {
  cluster = await startVaultCluster();
  await cluster.startReplica();
});
afterAll(async () => {
  await cluster?.dispose();
});

const outcome = (result: {
  secretName: string;
  value: string;
  error?: { code: ErrorCode; reason: Reason };
}) =>
  result.error
    ? [result.secretName, ErrorCode[result.error.code], Reason[result.error.reason]]
    : [result.secretName, result.value];

describe("GetSecrets", () => {
  it("answers each secret on its own, in order, and records one event per secret before answering", async () => {
    const { token } = await approvedService(cluster, "batch-svc");
    await cluster.admin.putSecret("BATCH_ONE", { value: "one" });
    await cluster.admin.grantAccess("BATCH_ONE", "batch-svc");
    await cluster.admin.putSecret("BATCH_TWO", { value: "two" });
    await cluster.admin.grantAccess("BATCH_TWO", "batch-svc");
    await cluster.admin.putSecret("BATCH_ASKED", { value: "not yet" });
    await cluster.admin.putSecret("BATCH_EMPTY", { description: "no value yet" });
    await cluster.admin.grantAccess("BATCH_EMPTY", "batch-svc");
    const reply = await getSecrets(cluster, token, [
      { secretName: "BATCH_ONE" },
      { secretName: "BATCH_MISSING", description: "asked in a batch" },
      { secretName: "BATCH_ASKED" },
      { secretName: "BATCH_EMPTY" },
      { secretName: "BATCH_TWO" },
    ]);
    expect(reply.results.map(outcome)).toEqual([
      ["BATCH_ONE", "one"],
      ["BATCH_MISSING", "NOT_FOUND", "SECRET_STUB_CREATED"],
      ["BATCH_ASKED", "PERMISSION_DENIED", "ACCESS_PENDING"],
      ["BATCH_EMPTY", "FAILED_PRECONDITION", "SECRET_HAS_NO_VALUE"],
      ["BATCH_TWO", "two"],
    ]);
    // Stored before the reply was sent: no polling needed.
    const events = (await readAuditStream(natsUrl, cluster.namespace))
      .map((stored) => stored.event)
      .filter((event) => event.event === "secret.get" && event.secretName.startsWith("BATCH_"));
    expect(events.map((event) => [event.secretName, event.success, event.reason])).toEqual(
      expect.arrayContaining([
        ["BATCH_ONE", true, ""],
        ["BATCH_MISSING", false, "SECRET_STUB_CREATED"],
        ["BATCH_ASKED", false, "ACCESS_PENDING"],
        ["BATCH_EMPTY", false, "SECRET_HAS_NO_VALUE"],
        ["BATCH_TWO", true, ""],
      ]),
    );
    expect(events).toHaveLength(5);
    expect(events.every((event) => event.serviceName === "batch-svc" && event.requestId === "req-test")).toBe(
      true,
    );
    const missing = await cluster.admin.listSecrets("BATCH_MISSING");
    expect(missing.secrets[0]).toMatchObject({ description: "asked in a batch", isStub: true });
  });

  it("fails the whole call for a refused token, recording the refusal once per secret", async () => {
    const unknown = await refusal(
      getSecrets(cluster, newServiceToken(), [{ secretName: "A_ONE" }, { secretName: "A_TWO" }]),
    );
    expect(unknown.code).toBe("UNAUTHENTICATED");
    const events = (await readAuditStream(natsUrl, cluster.namespace)).filter((stored) =>
      ["A_ONE", "A_TWO"].includes(stored.event.secretName),
    );
    expect(events.map((stored) => [stored.event.secretName, stored.event.reason])).toEqual([
      ["A_ONE", "UNAUTHENTICATED"],
      ["A_TWO", "UNAUTHENTICATED"],
    ]);
  });

  it("refuses an empty, oversized or repetitive list, naming the field", async () => {
    const { token } = await approvedService(cluster, "invalid-batch-svc");
    expect(await refusal(getSecrets(cluster, token, []))).toMatchObject({
      code: "INVALID_ARGUMENT",
      violations: [{ field: "secrets", description: "must name at least one secret" }],
    });
    const many = Array.from({ length: 101 }, (_, i) => ({ secretName: `MANY_${i}` }));
    expect((await refusal(getSecrets(cluster, token, many))).violations).toEqual([
      { field: "secrets", description: "must name at most 100 secrets" },
    ]);
    const twice = await refusal(
      getSecrets(cluster, token, [{ secretName: "TWICE" }, { secretName: "lower" }, { secretName: "TWICE" }]),
    );
    expect(twice.violations.map((violation) => violation.field)).toEqual([
      "secrets[1].secret_name",
      "secrets[2].secret_name",
    ]);
  });

  it("leaves out what does not fit in one reply, to be read with GetSecret", async () => {
    const { token } = await approvedService(cluster, "large-svc");
    const names = Array.from({ length: 9 }, (_, i) => `LARGE_${i}`);
    for (const name of names) {
      await cluster.admin.putSecret(name, { value: name.padEnd(60 * 1024, "x") });
      await cluster.admin.grantAccess(name, "large-svc");
    }
    const reply = await getSecrets(
      cluster,
      token,
      names.map((secretName) => ({ secretName })),
    );
    const refused = reply.results.filter((result) => result.error);
    expect(refused.map((result) => [result.secretName, result.error?.code])).toEqual([
      ["LARGE_8", ErrorCode.RESOURCE_EXHAUSTED],
    ]);
    expect(reply.results.slice(0, 8).every((result) => result.value.length === 60 * 1024)).toBe(true);
  });

  it("fails closed: returns nothing when the audit stream does not store every event", async () => {
    const { token } = await approvedService(cluster, "closed-batch-svc");
    await cluster.admin.putSecret("CLOSED_ONE", { value: "must-not-leave-1" });
    await cluster.admin.grantAccess("CLOSED_ONE", "closed-batch-svc");
    await cluster.admin.putSecret("CLOSED_TWO", { value: "must-not-leave-2" });
    await cluster.admin.grantAccess("CLOSED_TWO", "closed-batch-svc");
    const secrets = [{ secretName: "CLOSED_ONE" }, { secretName: "CLOSED_TWO" }];
    expect((await getSecrets(cluster, token, secrets)).results.map((result) => result.value)).toEqual([
      "must-not-leave-1",
      "must-not-leave-2",
    ]);
    await deleteAuditStream(natsUrl, cluster.namespace);
    try {
      const error = await refusal(getSecrets(cluster, token, secrets));
      expect(error).toMatchObject({ code: "UNAVAILABLE", reason: "AUDIT_UNAVAILABLE" });
      expect(JSON.stringify(error)).not.toContain("must-not-leave");
    } finally {
      await cluster.client.ensureStream({
        name: "AUDIT",
        subjects: ["v1.audit.events"],
        retention: "workqueue",
        maxAgeMs: 0,
        maxBytes: 64 * 1024 * 1024,
        duplicateWindowMs: 120_000,
      });
    }
  });
});
