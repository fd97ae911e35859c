/**
 * Where a GetSecret's time goes, step by step, one call at a time: the vault runs in this process on the
 * shared PostgreSQL and NATS servers, and each step of its request path is timed on its own (the same
 * prepared statements, the same audit publish) next to the whole operation over the bus.
 *
 *   bun bench/profile/get-secret-steps.ts [calls]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditEventName, connectNatsBus, request, serviceOperations } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { ServiceTokenStatus } from "@secrets/proto/admin";
import { ReplyKeyPair } from "@secrets/sealing";
import { adminBusClient } from "@secrets/test/support/admin-bus-client";
import { deleteAuditStream } from "@secrets/test/support/audit-stream";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { createTestDatabase } from "@secrets/test/support/postgres";
import { newServiceToken, testAdmin } from "@secrets/test/support/tokens";
import { createAuditRecorder } from "../../services/vault/src/audit/audit-recorder.ts";
import { openDatabase } from "../../services/vault/src/db/connection.ts";
import { createDals } from "../../services/vault/src/db/dals.ts";
import { loadOrCreateKeyring, loadOrCreateSealingKey } from "../../services/vault/src/keyring/index.ts";
import { hashToken } from "../../services/vault/src/service-tokens/token-hash.ts";
import { startVault } from "../../services/vault/src/vault.ts";
import { quantile } from "../stats.ts";

/** As a gateway asks: the vault seals the value to this key. */
const replyKeys = new ReplyKeyPair();

const calls = Number(process.argv[2] ?? 2_000);
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = uniqueNamespace("prof");
const testDb = await createTestDatabase("secrets_bench");
const dataDir = mkdtempSync(join(tmpdir(), "bench-profile-"));
const database = await openDatabase({ databaseUrl: testDb.url, dataDir, maxConnections: 10 });
const keyring = await loadOrCreateKeyring({ dataDir });
const vaultBus = await connectNatsBus({
  url: natsUrl,
  namespace,
  logger: silentLogger,
  name: "profile-vault",
});
const client = await connectNatsBus({
  url: natsUrl,
  namespace,
  logger: silentLogger,
  name: "profile-client",
});
const vault = await startVault({
  bus: vaultBus,
  db: database.db,
  keyring,
  sealingKey: await loadOrCreateSealingKey({ dataDir }),
  logger: silentLogger,
  options: {
    auditTimeoutMs: 2_000,
    auditStream: { maxBytes: 256 * 1024 * 1024, maxAgeMs: 0 },
    usageFlushIntervalMs: 1_000,
    maxPendingTokens: 10,
    adminSessionTtlMs: 3_600_000,
    adminBootstrap: testAdmin,
  },
});

async function timed(label: string, step: () => Promise<unknown>): Promise<string> {
  for (let i = 0; i < Math.min(200, calls); i++) await step();
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const began = performance.now();
    await step();
    samples[i] = performance.now() - began;
  }
  samples.sort();
  const f = (q: number) => quantile(samples, q).toFixed(3).padStart(8);
  return `| ${label.padEnd(46)} | ${f(0.5)} | ${f(0.9)} | ${f(0.99)} |`;
}

try {
  const admin = adminBusClient(client);
  const token = newServiceToken();
  const caller = { requestId: "profile", ipAddress: "127.0.0.1", userAgent: "profile" };
  await request(
    client,
    serviceOperations.registerToken,
    { serviceName: "profile", serviceVersion: "1", token, caller },
    { timeoutMs: 5_000 },
  );
  const pending = await admin.listServiceTokens(ServiceTokenStatus.PENDING);
  await admin.approveToken(pending.serviceTokens[0]?.id ?? "");
  await admin.putSecret("PROFILE_SECRET", { value: "v".repeat(32) });
  await admin.grantAccess("PROFILE_SECRET", "profile");

  // A responder on the vault's connection that answers at once: the bus's own share of a call.
  vaultBus.serve("v1.profile.echo", { queue: "profile" }, async (payload) => payload);
  const dals = createDals(database.db);
  const recorder = createAuditRecorder({ bus: vaultBus, logger: silentLogger, timeoutMs: 2_000 });
  const hash = hashToken(token);
  const secret = await dals.secrets.findByName("PROFILE_SECRET");
  if (!secret?.valueEncrypted) throw new Error("the secret was not stored");
  const envelope = secret.valueEncrypted;
  const lines = [
    `GetSecret steps, ${calls} sequential calls each (ms)`,
    "",
    `| ${"Step".padEnd(46)} | ${"p50".padStart(8)} | ${"p90".padStart(8)} | ${"p99".padStart(8)} |`,
    `| ${"-".repeat(46)} | -------: | -------: | -------: |`,
    await timed("whole GetSecret over the bus, value sealed", () =>
      request(
        client,
        serviceOperations.getSecret,
        { secretName: "PROFILE_SECRET", description: "", token, caller, replyKey: replyKeys.publicKey },
        { timeoutMs: 5_000 },
      ),
    ),
    await timed("whole GetSecret over the bus, value in clear", () =>
      request(
        client,
        serviceOperations.getSecret,
        { secretName: "PROFILE_SECRET", description: "", token, caller, replyKey: Buffer.alloc(0) },
        { timeoutMs: 5_000 },
      ),
    ),
    await timed("bus round trip (a responder doing nothing)", () =>
      client.request("v1.profile.echo", new Uint8Array(160), { timeoutMs: 5_000 }),
    ),
    await timed("select 1 (pool round trip)", () => database.db.execute("select 1")),
    await timed("service_tokens by hash (prepared)", () => dals.serviceTokens.findByHash(hash)),
    await timed("secrets by name (prepared)", () => dals.secrets.findByName("PROFILE_SECRET")),
    await timed("access_requests by secret and service (prepared)", () =>
      dals.accessRequests.find(secret.id, "profile"),
    ),
    await timed("decrypt (AES-256-GCM)", async () =>
      keyring.decrypt(envelope, { secretId: secret.id, version: secret.version }),
    ),
    await timed("audit event published and acknowledged", () =>
      recorder.record({
        event: AuditEventName.secretGet,
        success: true,
        secretName: "PROFILE_SECRET",
        ...caller,
      }),
    ),
  ];
  console.log(lines.join("\n"));
} finally {
  await vault.stop();
  await vaultBus.close();
  await client.close();
  await database.close();
  await deleteAuditStream(natsUrl, namespace);
  await testDb.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
