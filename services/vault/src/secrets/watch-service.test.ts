/**
 * AuthorizeWatch: the rules with fakes, then the whole operation through the bus on real PostgreSQL and
 * a real nats-server (the vault as `startVault` wires it).
 */
import { BusError, ErrorCode, request, serviceOperations } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { ServiceTokenStatus } from "@secrets/proto/admin";
import { readAuditStream } from "@secrets/test/support/audit-stream";
import { refusal } from "@secrets/test/support/bus-refusal";
import { newServiceToken } from "@secrets/test/support/tokens";
import { maxWatchedSecrets } from "@secrets/validation";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsUrl, startVaultCluster, type VaultCluster } from "../../test/harness.ts";
import { type AuditFacts, auditUnavailable } from "../audit/audit-recorder.ts";
import type { TokenAuthenticator } from "../service-tokens/token-authenticator.ts";
import { describeNames } from "./audit-secret-names.ts";
import { createWatchService, type WatchDeps } from "./watch-service.ts";

const caller = { requestId: "req-w", ipAddress: "10.0.0.9", userAgent: "grpc-node-js/1.14" };
const token = "t".repeat(43);

describe("authorizeWatch (rules)", () => {
  function setup(overrides: Partial<WatchDeps> = {}) {
    const recorded: AuditFacts[] = [];
    const queries: { serviceName: string; names: readonly string[] }[] = [];
    const authenticate: TokenAuthenticator = async (presented) =>
      presented === token
        ? { ok: true, service: { tokenId: "tok-1", serviceName: "orders" } }
        : {
            ok: false,
            serviceName: "",
            error: new BusError(ErrorCode.UNAUTHENTICATED, "The service token is not registered"),
          };
    const deps: WatchDeps = {
      authenticate,
      accessRequests: {
        async grantedVersions(serviceName, names) {
          queries.push({ serviceName, names });
          return names
            .filter((name) => name.startsWith("GRANTED"))
            .map((name) => ({ id: `id-${name}`, name, version: 3 }));
        },
      },
      recorder: {
        async record(facts) {
          recorded.push(facts);
          return {} as never;
        },
      },
      logger: silentLogger,
      ...overrides,
    };
    return { authorize: createWatchService(deps), recorded, queries };
  }

  it("returns the granted names with their versions, leaves the others out, audits once", async () => {
    const { authorize, recorded, queries } = setup();
    const granted = await authorize({
      secretNames: ["GRANTED_A", "OTHER", "GRANTED_B", "GRANTED_A"],
      token,
      caller,
    });
    expect(granted).toEqual([
      { secretName: "GRANTED_A", version: 3 },
      { secretName: "GRANTED_B", version: 3 },
    ]);
    expect(queries).toEqual([{ serviceName: "orders", names: ["GRANTED_A", "OTHER", "GRANTED_B"] }]);
    expect(recorded).toEqual([
      expect.objectContaining({
        event: "secret.watch",
        success: true,
        serviceName: "orders",
        secretName: "GRANTED_A,OTHER,GRANTED_B",
        requestId: "req-w",
        ipAddress: "10.0.0.9",
      }),
    ]);
  });

  it("names the secret and its id in the audit when one name is checked", async () => {
    const { authorize, recorded } = setup();
    await authorize({ secretNames: ["GRANTED_ONE"], token, caller });
    expect(recorded[0]).toMatchObject({ secretName: "GRANTED_ONE", secretId: "id-GRANTED_ONE" });
  });

  it("refuses an unknown token, audited, without looking at grants", async () => {
    const { authorize, recorded, queries } = setup();
    expect(
      await refusal(authorize({ secretNames: ["GRANTED_A"], token: "x".repeat(43), caller })),
    ).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(queries).toEqual([]);
    expect(recorded).toEqual([
      expect.objectContaining({ event: "secret.watch", success: false, reason: "UNAUTHENTICATED" }),
    ]);
  });

  it.each([
    ["no names", [], "secret_names: must name at least one secret"],
    ["too many names", Array.from({ length: maxWatchedSecrets + 1 }, (_, i) => `S_${i}`), "at most 100"],
    ["a bad name", ["GOOD", "bad-name"], "secret_names[1]:"],
  ])("refuses %s with INVALID_ARGUMENT, audited", async (_case, secretNames, message) => {
    const { authorize, recorded, queries } = setup();
    const error = await refusal(authorize({ secretNames, token, caller }));
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(error.message).toContain(message);
    expect(queries).toEqual([]);
    expect(recorded).toEqual([expect.objectContaining({ success: false, reason: "INVALID_ARGUMENT" })]);
  });

  it("counts repeated names once against the limit", async () => {
    const { authorize } = setup();
    const names = Array.from({ length: 300 }, (_, i) => `GRANTED_${i % maxWatchedSecrets}`);
    expect(await authorize({ secretNames: names, token, caller })).toHaveLength(maxWatchedSecrets);
  });

  it("fails closed: no answer when the audit stream does not store the event", async () => {
    const { authorize } = setup({
      recorder: {
        async record() {
          throw auditUnavailable();
        },
      },
    });
    expect(await refusal(authorize({ secretNames: ["GRANTED_A"], token, caller }))).toMatchObject({
      code: "UNAVAILABLE",
      reason: "AUDIT_UNAVAILABLE",
    });
  });

  it("turns an unexpected failure into INTERNAL without its detail, audited as an error", async () => {
    const { authorize, recorded } = setup({
      accessRequests: {
        async grantedVersions() {
          throw new Error("relation secrets does not exist; password=hunter2");
        },
      },
    });
    const error = await refusal(authorize({ secretNames: ["GRANTED_A"], token, caller }));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).not.toContain("hunter2");
    expect(recorded[0]).toMatchObject({ success: false, level: "error", reason: "INTERNAL" });
  });
});

describe("describeNames", () => {
  it("keeps whole names and says how many were left out", () => {
    expect(describeNames(["ONE"])).toBe("ONE");
    expect(describeNames(["A", "B", "C"])).toBe("A,B,C");
    const names = Array.from({ length: 100 }, (_, i) => `SECRET_NUMBER_${String(i).padStart(3, "0")}`);
    const text = describeNames(names);
    expect(text.length).toBeLessThanOrEqual(256);
    expect(text).toMatch(/^SECRET_NUMBER_000,SECRET_NUMBER_001,.*SECRET_NUMBER_\d{3} \(\+\d+ more\)$/);
    const listed = text.replace(/ \(.*$/, "").split(",").length;
    expect(text).toContain(`(+${100 - listed} more)`);
  });
});

describe("authorize-watch on the bus (PostgreSQL, NATS)", () => {
  let cluster: VaultCluster;

  const authorizeWatch = (presented: string, secretNames: string[]) =>
    request(
      cluster.client,
      serviceOperations.authorizeWatch,
      { secretNames, token: presented, caller },
      { timeoutMs: 10_000 },
    );

  async function registeredService(serviceName: string): Promise<{ token: string; id: string }> {
    const presented = newServiceToken();
    await request(
      cluster.client,
      serviceOperations.registerToken,
      { serviceName, serviceVersion: "1.0.0", token: presented, caller },
      { timeoutMs: 5_000 },
    );
    const { serviceTokens } = await cluster.admin.listServiceTokens(ServiceTokenStatus.PENDING);
    const row = serviceTokens.find((t) => t.serviceName === serviceName);
    if (!row) throw new Error(`no pending token for ${serviceName}`);
    return { token: presented, id: row.id };
  }

  beforeAll(async () => {
    cluster = await startVaultCluster({ name: "watch" });
    await cluster.startReplica({ maxConnections: 10 });
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  it("authenticates like GetSecret: unknown, pending, denied", async () => {
    expect(await refusal(authorizeWatch(newServiceToken(), ["ANY"]))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const pending = await registeredService("watch-pending");
    expect(await refusal(authorizeWatch(pending.token, ["ANY"]))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "TOKEN_PENDING_APPROVAL",
    });
    await cluster.admin.denyToken(pending.id);
    expect(await refusal(authorizeWatch(pending.token, ["ANY"]))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "TOKEN_DENIED",
    });
  });

  it("returns granted secrets with their versions, and creates no stub nor access request", async () => {
    const service = await registeredService("watcher");
    await cluster.admin.approveToken(service.id);
    await cluster.admin.putSecret("WATCH_GRANTED", { value: "v1" });
    await cluster.admin.putSecret("WATCH_GRANTED", { value: "v2" });
    await cluster.admin.putSecret("WATCH_NO_VALUE", { description: "set later" });
    await cluster.admin.putSecret("WATCH_NOT_GRANTED", { value: "x" });
    await cluster.admin.grantAccess("WATCH_GRANTED", "watcher");
    await cluster.admin.grantAccess("WATCH_NO_VALUE", "watcher");

    const reply = await authorizeWatch(service.token, [
      "WATCH_NOT_GRANTED",
      "WATCH_GRANTED",
      "WATCH_MISSING",
      "WATCH_NO_VALUE",
    ]);
    expect(reply.secrets).toEqual([
      { secretName: "WATCH_GRANTED", version: 2 },
      { secretName: "WATCH_NO_VALUE", version: 0 },
    ]);

    const sql = postgres(cluster.databaseUrl, { max: 1 });
    const stubs = await sql`select name from secrets where name = 'WATCH_MISSING'`;
    const requests = await sql`select a.status from access_requests a join secrets s on s.id = a.secret_id
      where s.name = 'WATCH_NOT_GRANTED'`;
    await sql.end();
    expect(stubs).toHaveLength(0);
    expect(requests).toHaveLength(0);

    // A revoked token is refused on the next check: the gateway ends the stream.
    await cluster.admin.revokeToken(service.id);
    expect(await refusal(authorizeWatch(service.token, ["WATCH_GRANTED"]))).toMatchObject({
      reason: "TOKEN_DENIED",
    });
  });

  it("drops a secret whose access was denied, and one that was deleted", async () => {
    const service = await registeredService("watch-drops");
    await cluster.admin.approveToken(service.id);
    const kept = await cluster.admin.putSecret("WATCH_DENY_ME", { value: "d" });
    const gone = await cluster.admin.putSecret("WATCH_DELETE_ME", { value: "g" });
    const grant = await cluster.admin.grantAccess("WATCH_DENY_ME", "watch-drops");
    await cluster.admin.grantAccess("WATCH_DELETE_ME", "watch-drops");
    const names = ["WATCH_DENY_ME", "WATCH_DELETE_ME"];
    expect((await authorizeWatch(service.token, names)).secrets).toHaveLength(2);
    await cluster.admin.denyAccess(grant.accessRequest?.id ?? "");
    await cluster.admin.deleteSecret(gone.secret?.id ?? "");
    expect((await authorizeWatch(service.token, names)).secrets).toEqual([]);
    expect(kept.secret?.name).toBe("WATCH_DENY_ME");
  });

  it("records one secret.watch event per authorization, with no token in it", async () => {
    const service = await registeredService("watch-audited");
    await cluster.admin.approveToken(service.id);
    await cluster.admin.putSecret("WATCH_AUDITED", { value: "audited-watch-value" });
    await cluster.admin.grantAccess("WATCH_AUDITED", "watch-audited");
    await authorizeWatch(service.token, ["WATCH_AUDITED", "WATCH_AUDITED_OTHER"]);
    await authorizeWatch(service.token, ["WATCH_AUDITED"]);
    const watches = async () =>
      (await readAuditStream(natsUrl, cluster.namespace)).filter(
        (e) => e.event.event === "secret.watch" && e.event.serviceName === "watch-audited",
      );
    await expect.poll(async () => (await watches()).length, { timeout: 5_000 }).toBe(2);
    const [many, one] = await watches();
    expect(many?.event).toMatchObject({
      success: true,
      secretName: "WATCH_AUDITED,WATCH_AUDITED_OTHER",
      requestId: "req-w",
      ipAddress: "10.0.0.9",
      level: "info",
    });
    expect(one?.event).toMatchObject({ success: true, secretName: "WATCH_AUDITED" });
    expect(one?.event.secretId).not.toBe("");
    for (const { data } of await watches()) {
      expect(Buffer.from(data).includes(service.token)).toBe(false);
      expect(Buffer.from(data).includes("audited-watch-value")).toBe(false);
    }
  });
});
