/**
 * The vault's caches across replicas, on real PostgreSQL and NATS: replica A serves only admin operations
 * and replica B only the service-facing ones, so every change is made on one replica and checked on the
 * other. Entries live 60 s here: only the invalidation notice can explain a refusal that comes at once.
 */
import { Reason } from "@secrets/bus";
import { refusal } from "@secrets/test/support/bus-refusal";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approvedService,
  getSecret,
  getSecrets,
  servingOnly,
  startVaultCluster,
  type VaultCluster,
} from "../../test/harness.ts";

let cluster: VaultCluster;
const longTtl = { ttlMs: 60_000, maxEntries: 1_000 };
const isAdmin = (subject: string) => subject.startsWith("v1.vault.admin.");

beforeAll(async () => {
  cluster = await startVaultCluster();
  await cluster.startReplica({ wrap: (bus) => servingOnly(bus, isAdmin), options: { cache: longTtl } });
  await cluster.startReplica({
    wrap: (bus) => servingOnly(bus, (subject) => !isAdmin(subject)),
    options: { cache: longTtl },
  });
});

afterAll(async () => {
  await cluster?.dispose();
});

/** A service granted `secretName` with `value`, read once so replica B has cached token, secret and grant. */
async function grantedAndCached(serviceName: string, secretName: string, value: string) {
  const service = await approvedService(cluster, serviceName);
  await cluster.admin.putSecret(secretName, { value });
  const { accessRequest } = await cluster.admin.grantAccess(secretName, serviceName);
  expect(await getSecret(cluster, service.token, secretName)).toEqual({ value });
  expect(await getSecret(cluster, service.token, secretName)).toEqual({ value });
  return { ...service, accessRequestId: accessRequest?.id ?? "" };
}

describe("caches on several vault replicas", () => {
  it("refuses a token at once on the other replica when it is revoked", async () => {
    const { token, tokenId } = await grantedAndCached("revoked-svc", "REVOKED_SECRET", "r-value");
    await cluster.admin.revokeToken(tokenId);
    expect(await refusal(getSecret(cluster, token, "REVOKED_SECRET"))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "TOKEN_DENIED",
    });
    expect(await refusal(getSecrets(cluster, token, [{ secretName: "REVOKED_SECRET" }]))).toMatchObject({
      reason: "TOKEN_DENIED",
    });
  });

  it("refuses a secret at once on the other replica when its grant is denied, and serves it once granted again", async () => {
    const { token, accessRequestId } = await grantedAndCached("denied-svc", "DENIED_SECRET", "d-value");
    await cluster.admin.denyAccess(accessRequestId);
    expect(await refusal(getSecret(cluster, token, "DENIED_SECRET"))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "ACCESS_DENIED",
    });
    const batch = await getSecrets(cluster, token, [{ secretName: "DENIED_SECRET" }]);
    expect(batch.results[0]?.error).toMatchObject({ reason: Reason.ACCESS_DENIED });
    await cluster.admin.approveAccess(accessRequestId);
    expect(await getSecret(cluster, token, "DENIED_SECRET")).toEqual({ value: "d-value" });
  });

  it("serves a new value, and refuses a deleted secret, at once on the other replica", async () => {
    const { token } = await grantedAndCached("changed-svc", "CHANGED_SECRET", "before");
    await cluster.admin.putSecret("CHANGED_SECRET", { value: "after" });
    expect(await getSecret(cluster, token, "CHANGED_SECRET")).toEqual({ value: "after" });
    const listed = await cluster.admin.listSecrets("CHANGED_SECRET");
    await cluster.admin.deleteSecret(listed.secrets[0]?.id ?? "");
    // Deleted: asking again makes a new stub, as for any missing secret.
    expect(await refusal(getSecret(cluster, token, "CHANGED_SECRET"))).toMatchObject({
      code: "NOT_FOUND",
      reason: "SECRET_STUB_CREATED",
    });
  });

  it("keeps a change made behind its back (no notice) only until the TTL ends", async () => {
    const short = await startVaultCluster();
    const sql = postgres(short.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await short.startReplica({ options: { cache: { ttlMs: 1_000, maxEntries: 1_000 } } });
      const service = await approvedService(short, "ttl-svc");
      await short.admin.putSecret("TTL_SECRET", { value: "t-value" });
      const { accessRequest } = await short.admin.grantAccess("TTL_SECRET", "ttl-svc");
      expect(await getSecret(short, service.token, "TTL_SECRET")).toEqual({ value: "t-value" });
      // Denied straight in the database: no notice reaches the replica, whose entry stands until its TTL.
      await sql`update access_requests set status = 'denied' where id = ${accessRequest?.id ?? ""}`;
      expect(await getSecret(short, service.token, "TTL_SECRET")).toEqual({ value: "t-value" });
      await expect
        .poll(async () => (await refusal(getSecret(short, service.token, "TTL_SECRET"))).reason, {
          timeout: 3_000,
          interval: 100,
        })
        .toBe("ACCESS_DENIED");
    } finally {
      await sql.end();
      await short.dispose();
    }
  });
});
