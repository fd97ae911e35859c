/**
 * The vault's workflows through its bus operations, on real PostgreSQL and a real nats-server.
 */
import { join } from "node:path";
import {
  adminOperations,
  BusError,
  ErrorCode,
  type Operation,
  request,
  secretChangedTopic,
  serviceOperations,
  subscribe,
} from "@secrets/bus";
import { AccessStatus, ServiceTokenStatus } from "@secrets/proto/admin";
import { TokenStatus } from "@secrets/proto/secrets";
import { ReplyKeyPair, sealedReplyContext } from "@secrets/sealing";
import { deleteAuditStream, readAuditStream } from "@secrets/test/support/audit-stream";
import { refusal } from "@secrets/test/support/bus-refusal";
import { newServiceToken, testAdmin } from "@secrets/test/support/tokens";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsUrl, startVaultCluster, type VaultCluster, type VaultReplica } from "../test/harness.ts";

const caller = { requestId: "req-1", ipAddress: "10.0.0.5", userAgent: "grpc-node-js/1.14" };
/** The bootstrap admin, testAdmin: the one the cluster's admin client acts as. */
const bootstrapToken = testAdmin.token;

let cluster: VaultCluster;
let replica: VaultReplica;

const getSecret = (token: string, secretName: string, description = "") =>
  request(
    cluster.client,
    serviceOperations.getSecret,
    { secretName, description, token, caller, replyKey: Buffer.alloc(0) }, // in clear: read here directly
    { timeoutMs: 10_000 },
  );

const registerToken = (token: string, serviceName: string, serviceVersion = "1.0.0") =>
  request(
    cluster.client,
    serviceOperations.registerToken,
    { serviceName, serviceVersion, token, caller },
    { timeoutMs: 5_000 },
  );

/** Registers and approves a token for `serviceName`. */
async function approvedService(serviceName: string): Promise<string> {
  const token = newServiceToken();
  await registerToken(token, serviceName);
  const { serviceTokens } = await cluster.admin.listServiceTokens(ServiceTokenStatus.PENDING);
  const row = serviceTokens.find((t) => t.serviceName === serviceName);
  if (!row) throw new Error(`no pending token for ${serviceName}`);
  await cluster.admin.approveToken(row.id);
  return token;
}

async function accessRequestOf(secretName: string, serviceName: string) {
  const { accessRequests } = await cluster.admin.listAccessRequests();
  const row = accessRequests.find((r) => r.secretName === secretName && r.serviceName === serviceName);
  if (!row) throw new Error(`no access request for ${serviceName} on ${secretName}`);
  return row;
}

beforeAll(async () => {
  cluster = await startVaultCluster({ name: "vault" });
  replica = await cluster.startReplica({
    maxConnections: 20,
    options: { secretVersionsKept: 5, adminBootstrap: testAdmin },
  });
});

afterAll(async () => {
  await cluster?.dispose();
});

describe("RegisterToken", () => {
  it("stores a new token as pending, and reports a known token's status without a second row", async () => {
    const token = newServiceToken();
    expect(await registerToken(token, "billing")).toMatchObject({ status: TokenStatus.PENDING_APPROVAL });
    expect(await registerToken(token, "billing")).toMatchObject({ status: TokenStatus.PENDING_APPROVAL });
    const rows = (await cluster.admin.listServiceTokens()).serviceTokens.filter(
      (t) => t.serviceName === "billing",
    );
    expect(rows).toHaveLength(1);
    await cluster.admin.approveToken(rows[0]?.id ?? "");
    expect(await registerToken(token, "billing")).toMatchObject({ status: TokenStatus.APPROVED });
  });

  it("refuses a short token and a bad service name", async () => {
    expect(await refusal(registerToken("short", "billing"))).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await refusal(registerToken(newServiceToken(), "Billing Service"))).toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("stores only the token's hash", async () => {
    const token = newServiceToken();
    await registerToken(token, "hash-check");
    const sql = postgres(cluster.databaseUrl, { max: 1 });
    const rows = await sql`select token_hash from service_tokens where service_name = 'hash-check'`;
    await sql.end();
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(token);
  });
});

describe("GetSecret", () => {
  it("refuses an unknown token, then a pending one, then a denied one", async () => {
    expect(await refusal(getSecret(newServiceToken(), "ANY_SECRET"))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const token = newServiceToken();
    await registerToken(token, "pending-svc");
    expect(await refusal(getSecret(token, "ANY_SECRET"))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "TOKEN_PENDING_APPROVAL",
    });
    const row = (await cluster.admin.listServiceTokens()).serviceTokens.find(
      (t) => t.serviceName === "pending-svc",
    );
    await cluster.admin.denyToken(row?.id ?? "");
    expect(await refusal(getSecret(token, "ANY_SECRET"))).toMatchObject({ reason: "TOKEN_DENIED" });
  });

  it("walks a missing secret from stub to value", async () => {
    const token = await approvedService("identity");
    expect(await refusal(getSecret(token, "STRIPE_API_KEY", "Stripe API key for payments"))).toMatchObject({
      code: "NOT_FOUND",
      reason: "SECRET_STUB_CREATED",
    });
    const missing = (await cluster.admin.listSecrets("", true)).secrets.find(
      (s) => s.name === "STRIPE_API_KEY",
    );
    expect(missing).toMatchObject({
      isStub: true,
      hasValue: false,
      description: "Stripe API key for payments",
      createdBy: "identity",
      requestedBy: ["identity"],
    });
    expect(await refusal(getSecret(token, "STRIPE_API_KEY"))).toMatchObject({ reason: "ACCESS_PENDING" });
    const access = await accessRequestOf("STRIPE_API_KEY", "identity");
    expect(access.status).toBe(AccessStatus.PENDING);
    await cluster.admin.approveAccess(access.id);
    expect(await refusal(getSecret(token, "STRIPE_API_KEY"))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "SECRET_HAS_NO_VALUE",
    });
    await cluster.admin.putSecret("STRIPE_API_KEY", { value: "sk_live_stub_to_value" });
    expect(await getSecret(token, "STRIPE_API_KEY")).toEqual({ value: "sk_live_stub_to_value" });
    const granted = await accessRequestOf("STRIPE_API_KEY", "identity");
    expect(granted).toMatchObject({ status: AccessStatus.GRANTED, grantedBy: "test-admin" });
  });

  it("asks for access to an existing secret, and honours a denial", async () => {
    const token = await approvedService("reports");
    await cluster.admin.putSecret("REPORTS_DB_URL", {
      description: "Reports database",
      value: "postgres://r",
    });
    expect(await refusal(getSecret(token, "REPORTS_DB_URL"))).toMatchObject({ reason: "ACCESS_PENDING" });
    const access = await accessRequestOf("REPORTS_DB_URL", "reports");
    await cluster.admin.denyAccess(access.id);
    expect(await refusal(getSecret(token, "REPORTS_DB_URL"))).toMatchObject({ reason: "ACCESS_DENIED" });
    await cluster.admin.approveAccess(access.id);
    expect(await getSecret(token, "REPORTS_DB_URL")).toEqual({ value: "postgres://r" });
  });

  it("seals values to the reply key a gateway sends, and refuses a malformed key before doing anything", async () => {
    const token = await approvedService("sealed-svc");
    await cluster.admin.putSecret("SEALED_DB_URL", { value: "postgres://sealed" });
    await cluster.admin.grantAccess("SEALED_DB_URL", "sealed-svc");
    const keys = new ReplyKeyPair();
    const context = sealedReplyContext("SEALED_DB_URL", caller.requestId);
    const ask = { secretName: "SEALED_DB_URL", description: "", token, caller, replyKey: keys.publicKey };
    const reply = await request(cluster.client, serviceOperations.getSecret, ask, { timeoutMs: 10_000 });
    expect(reply.value).toBe("");
    expect(reply.sealed && keys.open(reply.sealed, context)).toBe("postgres://sealed");
    // Nobody else on the bus reads it: not another gateway, not the same one for another call.
    expect(() => reply.sealed && new ReplyKeyPair().open(reply.sealed, context)).toThrow();
    expect(
      () => reply.sealed && keys.open(reply.sealed, sealedReplyContext("SEALED_DB_URL", "req-2")),
    ).toThrow();
    const batch = await request(
      cluster.client,
      serviceOperations.getSecrets,
      {
        secrets: [{ secretName: "SEALED_DB_URL", description: "" }],
        token,
        caller,
        replyKey: keys.publicKey,
      },
      { timeoutMs: 10_000 },
    );
    expect(batch.results[0]?.value).toBe("");
    const sealed = batch.results[0]?.sealed;
    expect(sealed && keys.open(sealed, context)).toBe("postgres://sealed");

    const eventsBefore = (await readAuditStream(natsUrl, cluster.namespace)).length;
    const malformed = await request(
      cluster.client,
      serviceOperations.getSecret,
      { ...ask, replyKey: Buffer.alloc(5) },
      { timeoutMs: 10_000 },
    ).catch((error: unknown) => error);
    expect(malformed).toBeInstanceOf(BusError);
    expect(malformed).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    expect((await readAuditStream(natsUrl, cluster.namespace)).length).toBe(eventsBefore);
  });

  it("stops serving a revoked token", async () => {
    const token = await approvedService("revoked-svc");
    const row = (await cluster.admin.listServiceTokens()).serviceTokens.find(
      (t) => t.serviceName === "revoked-svc",
    );
    await cluster.admin.revokeToken(row?.id ?? "");
    expect(await refusal(getSecret(token, "ANYTHING"))).toMatchObject({ reason: "TOKEN_DENIED" });
    expect(await refusal(cluster.admin.approveToken(row?.id ?? ""))).toMatchObject({
      code: "FAILED_PRECONDITION",
    });
  });

  it("never changes an existing secret's description, and keeps the service's beside it", async () => {
    const token = await approvedService("drift");
    await cluster.admin.putSecret("DRIFT_KEY", { value: "v" });
    await refusal(getSecret(token, "DRIFT_KEY", "first description"));
    let secret = (await cluster.admin.listSecrets("DRIFT_KEY")).secrets[0];
    expect(secret?.description).toBe("");
    await refusal(getSecret(token, "DRIFT_KEY", "a different description"));
    secret = (await cluster.admin.listSecrets("DRIFT_KEY")).secrets[0];
    expect(secret?.description).toBe("");
    expect((await accessRequestOf("DRIFT_KEY", "drift")).requestedDescription).toBe(
      "a different description",
    );
  });

  it("counts reads exactly on the token and the access request", async () => {
    const token = await approvedService("counter");
    await cluster.admin.putSecret("COUNTED", { value: "c" });
    await refusal(getSecret(token, "COUNTED"));
    await cluster.admin.approveAccess((await accessRequestOf("COUNTED", "counter")).id);
    await Promise.all(Array.from({ length: 25 }, () => getSecret(token, "COUNTED")));
    await expect
      .poll(async () => (await accessRequestOf("COUNTED", "counter")).accessCount, { timeout: 5_000 })
      .toBe(25);
    const tokenRow = (await cluster.admin.listServiceTokens()).serviceTokens.find(
      (t) => t.serviceName === "counter",
    );
    expect(tokenRow?.accessCount).toBe(25);
    expect(tokenRow?.lastUsedAtMs).toBeGreaterThan(0);
  });

  it("creates exactly one stub and one access request for 500 simultaneous requests", async () => {
    const token = await approvedService("stampede");
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, () => refusal(getSecret(token, "STAMPEDE_SECRET", "wanted by many"))),
    );
    // Requests that found the secret missing report the stub; later ones find it and wait for access.
    const kinds = new Set(outcomes.map((o) => `${o.code}/${o.reason}`));
    expect(kinds.has("NOT_FOUND/SECRET_STUB_CREATED")).toBe(true);
    expect(
      [...kinds].filter(
        (k) => k !== "NOT_FOUND/SECRET_STUB_CREATED" && k !== "PERMISSION_DENIED/ACCESS_PENDING",
      ),
    ).toEqual([]);
    const sql = postgres(cluster.databaseUrl, { max: 1 });
    const [secrets] = await sql`select count(*)::int as n from secrets where name = 'STAMPEDE_SECRET'`;
    const [requests] =
      await sql`select count(*)::int as n from access_requests a join secrets s on s.id = a.secret_id
      where s.name = 'STAMPEDE_SECRET'`;
    await sql.end();
    expect(secrets?.n).toBe(1);
    expect(requests?.n).toBe(1);
  });
});

describe("admin operations", () => {
  it("refuses an admin operation without an admin credential", async () => {
    const error = await refusal(
      request(
        cluster.client,
        (await import("@secrets/bus")).adminOperations.listSecrets,
        {
          admin: { requestId: "", ipAddress: "", userAgent: "" },
          query: "",
          missingOnly: false,
          limit: 0,
          cursor: "",
        },
        { timeoutMs: 5_000 },
      ),
    );
    expect(error).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("refuses a value sealed to another key, and reports unknown ids", async () => {
    const { sealValue, generateSealingKeyPair } = await import("@secrets/sealing");
    const stranger = sealValue(generateSealingKeyPair(), "x", "SEALED");
    const put = request(
      cluster.client,
      adminOperations.putSecret,
      {
        admin: cluster.admin.admin,
        name: "SEALED",
        value: {
          keyId: stranger.keyId,
          ephemeralPublicKey: Buffer.from(stranger.ephemeralPublicKey),
          iv: Buffer.from(stranger.iv),
          ciphertext: Buffer.from(stranger.ciphertext),
        },
      },
      { timeoutMs: 5_000 },
    );
    expect(await refusal(put)).toMatchObject({ code: "INVALID_ARGUMENT", reason: "SEALING_KEY_UNKNOWN" });
    expect(await refusal(cluster.admin.deleteSecret("no-such-id"))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(cluster.admin.approveAccess("no-such-id"))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(cluster.admin.approveToken("no-such-id"))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("grants a service access before it asks, and refuses unknown secrets", async () => {
    await cluster.admin.putSecret("PREGRANTED", { value: "early" });
    const first = await cluster.admin.grantAccess("PREGRANTED", "newcomer");
    expect(first).toMatchObject({
      created: true,
      accessRequest: { status: AccessStatus.GRANTED, grantedBy: "test-admin" },
    });
    expect((await cluster.admin.grantAccess("PREGRANTED", "newcomer")).created).toBe(false);
    const token = await approvedService("newcomer");
    expect(await getSecret(token, "PREGRANTED")).toEqual({ value: "early" });
    expect(await refusal(cluster.admin.grantAccess("NO_SUCH_SECRET", "newcomer"))).toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await refusal(cluster.admin.grantAccess("PREGRANTED", "Bad Name"))).toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("creates (then updates) by name, keeps the value when it is omitted, deletes with its requests", async () => {
    const created = await cluster.admin.putSecret("LIFECYCLE", { description: "one", value: "v1" });
    expect(created).toMatchObject({
      created: true,
      secret: { name: "LIFECYCLE", hasValue: true, createdBy: "test-admin" },
    });
    const updated = await cluster.admin.putSecret("LIFECYCLE", { description: "two" });
    expect(updated).toMatchObject({ created: false, secret: { description: "two", hasValue: true } });
    const token = await approvedService("lifecycle");
    await refusal(getSecret(token, "LIFECYCLE"));
    await cluster.admin.approveAccess((await accessRequestOf("LIFECYCLE", "lifecycle")).id);
    expect(await getSecret(token, "LIFECYCLE")).toEqual({ value: "v1" });
    await cluster.admin.deleteSecret(created.secret?.id ?? "");
    const remaining = (await cluster.admin.listAccessRequests()).accessRequests.filter(
      (r) => r.secretName === "LIFECYCLE",
    );
    expect(remaining).toEqual([]);
  });
});

describe("audit", () => {
  it("records every attempt and admin action, with no value or token in any event", async () => {
    const token = await approvedService("audited");
    await cluster.admin.putSecret("AUDITED_SECRET", { value: "audited-plaintext-value" });
    await refusal(getSecret(token, "AUDITED_SECRET"));
    await cluster.admin.approveAccess((await accessRequestOf("AUDITED_SECRET", "audited")).id);
    await getSecret(token, "AUDITED_SECRET");
    await expect
      .poll(async () => (await readAuditStream(natsUrl, cluster.namespace)).map((e) => e.event.event), {
        timeout: 5_000,
      })
      .toEqual(expect.arrayContaining(["token.register", "token.approve", "secret.put", "access.approve"]));
    const stored = await readAuditStream(natsUrl, cluster.namespace);
    const gets = stored.filter(
      (e) => e.event.event === "secret.get" && e.event.secretName === "AUDITED_SECRET",
    );
    expect(gets.map((e) => [e.event.success, e.event.reason])).toEqual([
      [false, "ACCESS_PENDING"],
      [true, ""],
    ]);
    expect(gets[1]?.event).toMatchObject({
      serviceName: "audited",
      ipAddress: "10.0.0.5",
      requestId: "req-1",
      level: "info",
    });
    const approval = stored.find(
      (e) => e.event.event === "access.approve" && e.event.secretName === "AUDITED_SECRET",
    );
    expect(approval?.event).toMatchObject({ actor: "test-admin", serviceName: "audited", success: true });
    for (const { data } of stored) {
      expect(Buffer.from(data).includes("audited-plaintext-value")).toBe(false);
      expect(Buffer.from(data).includes(token)).toBe(false);
    }
  });

  it("fails closed: no value leaves the vault when the audit stream refuses", async () => {
    const token = await approvedService("fail-closed");
    await cluster.admin.putSecret("FAIL_CLOSED", { value: "must-not-leave" });
    await refusal(getSecret(token, "FAIL_CLOSED"));
    await cluster.admin.approveAccess((await accessRequestOf("FAIL_CLOSED", "fail-closed")).id);
    expect(await getSecret(token, "FAIL_CLOSED")).toEqual({ value: "must-not-leave" });
    await deleteAuditStream(natsUrl, cluster.namespace);
    try {
      const error = await refusal(getSecret(token, "FAIL_CLOSED"));
      expect(error).toMatchObject({ code: "UNAVAILABLE", reason: "AUDIT_UNAVAILABLE" });
      expect(JSON.stringify(error)).not.toContain("must-not-leave");
      // An admin action while the stream is down is kept in the outbox and published once it is back.
      await cluster.admin.putSecret("OUTBOX_WITNESS", { description: "recorded later" });
    } finally {
      await replica.bus.ensureStream({
        name: "AUDIT",
        subjects: ["v1.audit.events"],
        retention: "workqueue",
        maxAgeMs: 0,
        maxBytes: 64 * 1024 * 1024,
        duplicateWindowMs: 120_000,
      });
    }
    await expect
      .poll(
        async () =>
          (await readAuditStream(natsUrl, cluster.namespace)).some(
            (e) => e.event.secretName === "OUTBOX_WITNESS",
          ),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    expect(await getSecret(token, "FAIL_CLOSED")).toEqual({ value: "must-not-leave" });
  });
});

describe("admin authentication", () => {
  const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");
  const auth = adminOperations;
  const call = <Req, Rep>(op: Operation<Req, Rep>, message: Req) =>
    request(cluster.client, op, message, { timeoutMs: 5_000 });
  const who = { ipAddress: "10.1.1.1", userAgent: "browser", requestId: "r" };

  it("accepts the bootstrap token by its hash, and nothing else", async () => {
    expect(await call(auth.authenticate, { tokenHash: sha256(bootstrapToken), ...who })).toEqual({
      admin: { adminId: expect.any(String), name: "test-admin" },
    });
    expect(await refusal(call(auth.authenticate, { tokenHash: sha256("wrong"), ...who }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(await refusal(call(auth.authenticate, { tokenHash: bootstrapToken, ...who }))).toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    // The refused token is in the audit trail, with where it came from (never the hash itself).
    await expect
      .poll(async () =>
        (await readAuditStream(natsUrl, cluster.namespace))
          .map((e) => e.event)
          .filter((e) => e.event === "admin.login" && e.subject === "bearer token")
          .map((e) => ({ success: e.success, reason: e.reason, ip: e.ipAddress, requestId: e.requestId })),
      )
      .toEqual([{ success: false, reason: "UNAUTHENTICATED", ip: "10.1.1.1", requestId: "r" }]);
  });

  it("opens, checks and ends a dashboard session, auditing login and logout", async () => {
    const sessionHash = sha256(crypto.randomUUID());
    const created = await call(auth.createSession, {
      tokenHash: sha256(bootstrapToken),
      sessionHash,
      ...who,
    });
    expect(created.admin?.name).toBe("test-admin");
    expect(created.expiresAtMs).toBeGreaterThan(Date.now());
    expect((await call(auth.authenticateSession, { sessionHash, ...who })).admin?.name).toBe("test-admin");
    await call(auth.endSession, { sessionHash, ...who });
    expect(await refusal(call(auth.authenticateSession, { sessionHash, ...who }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const failed = await refusal(
      call(auth.createSession, { tokenHash: sha256("nope"), sessionHash, ...who }),
    );
    expect(failed).toMatchObject({ code: "UNAUTHENTICATED" });
    await expect
      .poll(async () =>
        (await readAuditStream(natsUrl, cluster.namespace))
          .filter((e) => e.event.event.startsWith("admin.log"))
          .map((e) => [e.event.event, e.event.success]),
      )
      .toEqual(
        expect.arrayContaining([
          ["admin.login", true],
          ["admin.logout", true],
          ["admin.login", false],
        ]),
      );
  });

  it("creates, lists and revokes admin tokens from the CLI; revoking ends their sessions", async () => {
    const env = { ...process.env, DATABASE_URL: cluster.databaseUrl, SECRETS_DATA_DIR: cluster.dataDir };
    const cli = (...args: string[]) => {
      const run = Bun.spawnSync(["bun", join(import.meta.dirname, "cli/admin-token.ts"), ...args], { env });
      return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
    };
    const created = cli("create", "--name", "alice");
    expect(created.code).toBe(0);
    const token = created.out.match(/ssadm_[A-Za-z0-9_-]{43}/)?.[0] ?? "";
    expect(token).not.toBe("");
    const sessionHash = sha256(crypto.randomUUID());
    await call(auth.createSession, { tokenHash: sha256(token), sessionHash, ...who });
    const listed = cli("list");
    expect(listed.out).toContain("alice");
    expect(listed.out).not.toContain(token.slice(6));
    expect(cli("revoke", "--name", "alice")).toMatchObject({ code: 0 });
    expect(await refusal(call(auth.authenticate, { tokenHash: sha256(token), ...who }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(await refusal(call(auth.authenticateSession, { sessionHash, ...who }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(cli("revoke", "--name", "alice").code).toBe(1);
    expect(cli("create").code).toBe(2);
  });
});

describe("secret versions", () => {
  const listVersions = (id: string) =>
    request(
      cluster.client,
      adminOperations.listSecretVersions,
      { admin: cluster.admin.admin, id },
      { timeoutMs: 5_000 },
    );
  const rollback = (id: string, version: number, expectedVersion?: number) =>
    request(
      cluster.client,
      adminOperations.rollbackSecret,
      { admin: cluster.admin.admin, id, version, expectedVersion },
      { timeoutMs: 5_000 },
    );

  it("keeps each value as a version, rolls back as a new version, and announces each change", async () => {
    const changes: { secretName: string; version: number; deleted: boolean }[] = [];
    const subscription = subscribe(
      cluster.client,
      secretChangedTopic,
      (change) => changes.push(change),
      () => {},
    );
    await cluster.client.flush();
    const token = await approvedService("versioned");
    const first = await cluster.admin.putSecret("VERSIONED", { value: "one" });
    expect(first.secret?.version).toBe(1);
    await cluster.admin.putSecret("VERSIONED", { value: "two" });
    await cluster.admin.putSecret("VERSIONED", { description: "no new value, no new version" });
    const third = await cluster.admin.putSecret("VERSIONED", { value: "three" });
    expect(third.secret?.version).toBe(3);
    const id = third.secret?.id ?? "";
    const listed = await listVersions(id);
    expect(listed.currentVersion).toBe(3);
    expect(listed.versions.map((v) => [v.version, v.createdBy])).toEqual([
      [3, "test-admin"],
      [2, "test-admin"],
      [1, "test-admin"],
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/one|two|three/);

    const rolled = await rollback(id, 1, 3);
    expect(rolled.secret?.version).toBe(4);
    expect((await listVersions(id)).versions[0]).toMatchObject({ version: 4, restoredFrom: 1 });
    await refusal(getSecret(token, "VERSIONED"));
    await cluster.admin.approveAccess((await accessRequestOf("VERSIONED", "versioned")).id);
    expect(await getSecret(token, "VERSIONED")).toEqual({ value: "one" });

    await expect
      .poll(() => changes.filter((c) => c.secretName === "VERSIONED").map((c) => c.version))
      .toEqual([1, 2, 3, 4]);
    await cluster.admin.deleteSecret(id);
    await expect
      .poll(() => changes.at(-1))
      .toMatchObject({ secretName: "VERSIONED", deleted: true, version: 0 });
    await subscription.unsubscribe();
  });

  it("refuses a stale check-and-set, and an unknown version", async () => {
    const created = await cluster.admin.putSecret("CAS_SECRET", { value: "a" });
    const id = created.secret?.id ?? "";
    const put = (value: string, expectedVersion: number) =>
      request(
        cluster.client,
        adminOperations.putSecret,
        {
          admin: cluster.admin.admin,
          name: "CAS_SECRET",
          value: undefined,
          expectedVersion,
          description: value,
        },
        { timeoutMs: 5_000 },
      );
    expect(await put("fresh", 1)).toMatchObject({ secret: { version: 1, description: "fresh" } });
    await cluster.admin.putSecret("CAS_SECRET", { value: "b" });
    expect(await refusal(put("stale", 1))).toMatchObject({ code: "CONFLICT", reason: "VERSION_CONFLICT" });
    expect(await refusal(rollback(id, 1, 1))).toMatchObject({ code: "CONFLICT", reason: "VERSION_CONFLICT" });
    expect(await refusal(rollback(id, 99))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses a ciphertext put back as the current value from an older version or another secret", async () => {
    const token = await approvedService("swapped");
    const a = (await cluster.admin.putSecret("SWAP_A", { value: "a-first" })).secret?.id ?? "";
    await cluster.admin.putSecret("SWAP_A", { value: "a-second" });
    const b = (await cluster.admin.putSecret("SWAP_B", { value: "b-only" })).secret?.id ?? "";
    for (const name of ["SWAP_A", "SWAP_B"]) {
      await refusal(getSecret(token, name));
      await cluster.admin.approveAccess((await accessRequestOf(name, "swapped")).id);
    }
    expect(await getSecret(token, "SWAP_A")).toEqual({ value: "a-second" });
    const sql = postgres(cluster.databaseUrl, { max: 1 });
    // What someone with write access to the database alone can do: copy envelopes between rows.
    const swaps: [string, string, () => Promise<unknown>][] = [
      [
        "SWAP_A",
        "version 1 as the current version 2",
        () => sql`update secrets set (value_encrypted, key_id) = (select value_encrypted, key_id
          from secret_versions where secret_id = ${a} and version = 1) where id = ${a}`,
      ],
      [
        "SWAP_B",
        "another secret's value",
        () => sql`update secrets set (value_encrypted, key_id) = (select value_encrypted, key_id
          from secrets where id = ${a}) where id = ${b}`,
      ],
      [
        "SWAP_A",
        "another secret's value with that secret's version number",
        () => sql`update secrets set (value_encrypted, key_id) = (select value_encrypted, key_id
          from secret_versions where secret_id = ${b} and version = 1), version = 1 where id = ${a}`,
      ],
    ];
    try {
      for (const [name, what, swap] of swaps) {
        await swap();
        // A description-only change announces the secret, so no vault answers from a cached row.
        await cluster.admin.putSecret(name, { description: `after: ${what}` });
        const refused = await refusal(getSecret(token, name));
        expect(refused, what).toMatchObject({ code: "INTERNAL" });
        expect(JSON.stringify(refused)).not.toMatch(/a-first|a-second|b-only/);
      }
    } finally {
      await sql.end();
    }
  });

  it("keeps only the newest versions", async () => {
    let id = "";
    for (let i = 1; i <= 8; i++)
      id = (await cluster.admin.putSecret("PRUNED", { value: `v${i}` })).secret?.id ?? "";
    expect((await listVersions(id)).versions.map((v) => v.version)).toEqual([8, 7, 6, 5, 4]);
    expect(await refusal(rollback(id, 3))).toMatchObject({ code: "NOT_FOUND" });
  });
});
