/**
 * The pending queues an outsider can add to, through the vault's bus operations on both backends:
 * PostgreSQL with a real nats-server, and PGlite with the in-process bus (the embedded mode).
 * Limits hold under concurrency, refusals say which limit and how it clears, the list replies show
 * which queues are full, and a service never rewrites an existing secret's description.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  adminOperations,
  type Bus,
  connectNatsBus,
  ErrorCode,
  MemoryBus,
  Reason,
  request,
  serviceOperations,
} from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AccessStatus, ServiceTokenStatus } from "@secrets/proto/admin";
import { TokenStatus } from "@secrets/proto/secrets";
import { adminBusClient } from "@secrets/test/support/admin-bus-client";
import { deleteAuditStream, readAuditStream } from "@secrets/test/support/audit-stream";
import { refusalOf } from "@secrets/test/support/bus-refusal";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { createTestDatabase, type TestDatabase } from "@secrets/test/support/postgres";
import { newServiceToken, testAdmin } from "@secrets/test/support/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseKind, type OpenedDatabase, openDatabase } from "./db/connection.ts";
import { loadOrCreateKeyring, loadOrCreateSealingKey } from "./keyring/index.ts";
import { type RunningVault, startVault } from "./vault.ts";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const limits = { tokensPerService: 3, tokensPerAddress: 10, requestsPerService: 100 };

const callerAt = (ipAddress: string) => ({ requestId: "req-limits", ipAddress, userAgent: "vitest" });

describe.each<DatabaseKind>(["postgres", "pglite"])("pending limits on %s", (kind) => {
  const namespace = uniqueNamespace("limits");
  let testDb: TestDatabase | undefined;
  let dataDir: string;
  let database: OpenedDatabase;
  let vaultBus: Bus;
  let client: Bus;
  let vault: RunningVault;
  const admin = () => adminBusClient(client);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "vault-limits-"));
    testDb = kind === "postgres" ? await createTestDatabase() : undefined;
    database = await openDatabase({ databaseUrl: testDb?.url, dataDir, maxConnections: 10 });
    if (kind === "postgres") {
      vaultBus = await connectNatsBus({
        url: natsUrl,
        namespace,
        logger: silentLogger,
        name: "limits-vault",
      });
      client = await connectNatsBus({ url: natsUrl, namespace, logger: silentLogger, name: "limits-client" });
    } else {
      vaultBus = new MemoryBus({ namespace, logger: silentLogger });
      client = vaultBus;
    }
    vault = await startVault({
      bus: vaultBus,
      db: database.db,
      keyring: await loadOrCreateKeyring({ dataDir }),
      sealingKey: await loadOrCreateSealingKey({ dataDir }),
      logger: silentLogger,
      options: {
        auditTimeoutMs: 5_000,
        auditStream: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 0 },
        usageFlushIntervalMs: 100,
        maxPendingTokens: 50,
        pendingLimits: limits,
        outboxIntervalMs: 200,
        adminSessionTtlMs: 3_600_000,
        adminBootstrap: testAdmin,
      },
    });
  });

  afterAll(async () => {
    await vault?.stop();
    await vaultBus?.close();
    if (client !== vaultBus) await client?.close();
    await database?.close();
    if (kind === "postgres") await deleteAuditStream(natsUrl, namespace);
    await testDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const register = (serviceName: string, token: string, ipAddress: string, serviceVersion = "1.0.0") =>
    request(
      client,
      serviceOperations.registerToken,
      { serviceName, serviceVersion, token, caller: callerAt(ipAddress) },
      { timeoutMs: 20_000 },
    );

  async function approvedService(serviceName: string, ipAddress: string): Promise<string> {
    const token = newServiceToken();
    await register(serviceName, token, ipAddress);
    const { serviceTokens } = await admin().listServiceTokens(ServiceTokenStatus.PENDING);
    const row = serviceTokens.find((candidate) => candidate.serviceName === serviceName);
    if (!row) throw new Error(`no pending token for ${serviceName}`);
    await admin().approveToken(row.id);
    return token;
  }

  const getSecrets = (token: string, names: string[], description = "") =>
    request(
      client,
      serviceOperations.getSecrets,
      {
        secrets: names.map((secretName) => ({ secretName, description })),
        token,
        caller: callerAt("10.9.0.1"),
        replyKey: Buffer.alloc(0),
      },
      { timeoutMs: 60_000 },
    );

  it("records at most the limit of new names from 500 asked concurrently, and refuses the rest", async () => {
    const token = await approvedService("flooder", "10.0.0.1");
    const batches = Array.from({ length: 5 }, (_, batch) =>
      Array.from({ length: 100 }, (_, i) => `JUNK_${batch}_${i}`),
    );
    const replies = await Promise.all(batches.map((names) => getSecrets(token, names, "junk")));
    const outcomes = replies.flatMap((reply) => reply.results);
    const kinds = outcomes.map((o) => `${ErrorCode[o.error?.code ?? 0]}/${Reason[o.error?.reason ?? 0]}`);
    expect(
      outcomes
        .filter(
          (o) =>
            !["SECRET_STUB_CREATED", "PENDING_LIMIT_REACHED"].includes(Reason[o.error?.reason ?? 0] ?? ""),
        )
        .map((o) => o.error),
    ).toEqual([]);
    expect(kinds.filter((k) => k === "NOT_FOUND/SECRET_STUB_CREATED")).toHaveLength(100);
    expect(kinds.filter((k) => k === "RESOURCE_EXHAUSTED/PENDING_LIMIT_REACHED")).toHaveLength(400);
    const refused = outcomes.find((o) => o.error?.reason === Reason.PENDING_LIMIT_REACHED);
    expect(refused?.error?.message).toMatch(
      /^Service "flooder" already has 100 access requests waiting for an admin, its limit of 100 \(MAX_PENDING_REQUESTS_PER_SERVICE\), so JUNK_\d_\d+ was not recorded: an admin must grant or deny some/,
    );
    const missing = await request(
      client,
      adminOperations.listSecrets,
      { admin: admin().admin, query: "JUNK_", missingOnly: true, limit: 1000, cursor: "" },
      { timeoutMs: 10_000 },
    );
    expect(missing.secrets).toHaveLength(100);

    const listed = await admin().listAccessRequests(AccessStatus.PENDING);
    expect(listed.pendingLimitsReached).toEqual([
      { serviceName: "flooder", clientAddress: "", pending: 100, limit: 100 },
    ]);
    // Another service still records what it is missing.
    const other = await approvedService("bystander", "10.0.0.2");
    const [reply] = (await getSecrets(other, ["BYSTANDER_KEY"])).results;
    expect(reply?.error?.reason).toBe(Reason.SECRET_STUB_CREATED);
  }, 120_000);

  it("keeps at most 3 pending tokens per name from 20 concurrent registrations; a new name still registers", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        register("payments", newServiceToken(), "10.1.0.1").then(
          (reply) => TokenStatus[reply.status] ?? "?",
          (error: unknown) => refusalOf(error).reason,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "PENDING_APPROVAL")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "PENDING_LIMIT_REACHED")).toHaveLength(17);
    const refusal = await register("payments", newServiceToken(), "10.1.0.2").catch(refusalOf);
    expect(refusal).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "PENDING_LIMIT_REACHED",
      message: expect.stringMatching(
        /^Service "payments" already has 3 tokens waiting for approval, its limit of 3 \(MAX_PENDING_TOKENS_PER_SERVICE\): an admin must approve or deny/,
      ),
    });
    expect((await register("invoices", newServiceToken(), "10.1.0.1")).status).toBe(
      TokenStatus.PENDING_APPROVAL,
    );

    const { serviceTokens, pendingLimitsReached } = await admin().listServiceTokens(
      ServiceTokenStatus.PENDING,
    );
    expect(serviceTokens.filter((t) => t.serviceName === "payments")).toHaveLength(3);
    expect(pendingLimitsReached).toContainEqual({
      serviceName: "payments",
      clientAddress: "",
      pending: 3,
      limit: 3,
    });
  }, 60_000);

  it("keeps at most 10 pending tokens per client address; another address still registers", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        register(`worker-${i}`, newServiceToken(), "10.2.0.1").then(
          () => "stored",
          (error: unknown) => refusalOf(error).message,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "stored")).toHaveLength(10);
    expect(outcomes.find((o) => o !== "stored")).toMatch(
      /^10 tokens registered from 10\.2\.0\.1 are waiting for approval, the limit of 10 for one client address \(MAX_PENDING_TOKENS_PER_ADDRESS\)/,
    );
    expect((await register("worker-99", newServiceToken(), "10.2.0.2")).status).toBe(
      TokenStatus.PENDING_APPROVAL,
    );
    const { pendingLimitsReached } = await admin().listServiceTokens(ServiceTokenStatus.PENDING);
    expect(pendingLimitsReached).toContainEqual({
      serviceName: "",
      clientAddress: "10.2.0.1",
      pending: 10,
      limit: 10,
    });
  }, 60_000);

  it("counts an IPv6 client by its /64, so its many addresses are one client", async () => {
    const outcomes = [];
    for (let i = 0; i < 12; i++) {
      outcomes.push(
        await register(`roamer-${i}`, newServiceToken(), `2001:db8:7:7::${(i + 1).toString(16)}`).then(
          () => "stored",
          (error: unknown) => refusalOf(error).message,
        ),
      );
    }
    expect(outcomes.filter((o) => o === "stored")).toHaveLength(10);
    expect(outcomes.at(-1)).toMatch(/registered from 2001:db8:7:7::\/64 are waiting for approval/);
    expect((await register("roamer-next", newServiceToken(), "2001:db8:7:8::1")).status).toBe(
      TokenStatus.PENDING_APPROVAL,
    );
  }, 60_000);

  it("shows the fingerprint and client address of each token, and audits the registration with them", async () => {
    const token = newServiceToken();
    await register("ledger", token, "10.3.0.7", "2.0\u202E1-ytrap\u009B");
    const fingerprint = createHash("sha256").update(token).digest("hex").slice(0, 8);
    const { serviceTokens } = await admin().listServiceTokens(ServiceTokenStatus.PENDING);
    const row = serviceTokens.find((t) => t.serviceName === "ledger");
    expect(row).toMatchObject({ fingerprint, clientAddress: "10.3.0.7", serviceVersion: "2.01-ytrap" });
    if (kind !== "postgres") return; // the audit stream is read from nats-server
    const events = await readAuditStream(natsUrl, namespace);
    const registered = events.find((e) => e.event.event === "token.register" && e.event.targetId === row?.id);
    expect(registered?.event).toMatchObject({ subject: fingerprint, ipAddress: "10.3.0.7", success: true });
  });

  it("never changes an existing secret's description; the service's stays on its access request", async () => {
    const token = await approvedService("describer", "10.4.0.1");
    await admin().putSecret("ADMIN_MADE", { value: "v" });
    const [first] = (await getSecrets(token, ["ADMIN_MADE"], "Payments \u202Ekey")).results;
    expect(first?.error?.reason).toBe(Reason.ACCESS_PENDING);
    const secret = (await admin().listSecrets("ADMIN_MADE")).secrets[0];
    expect(secret?.description).toBe("");
    const { accessRequests } = await admin().listAccessRequests(AccessStatus.PENDING);
    const requested = accessRequests.find((r) => r.secretName === "ADMIN_MADE");
    expect(requested?.requestedDescription).toBe("Payments key");

    // A stub the service creates still gets its description.
    await getSecrets(token, ["DESCRIBED_STUB"], "What the schema says");
    expect((await admin().listSecrets("DESCRIBED_STUB")).secrets[0]?.description).toBe(
      "What the schema says",
    );
  });
});
