/**
 * Done-when of key rotation: 10,000 secrets, GetSecret traffic running the whole time, an admin rotates
 * the key, and the rewrap moves everything: zero failed reads, and every row on the new key afterwards.
 * Real PostgreSQL, real NATS, the vault wired as in production.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminOperations, type Bus, connectNatsBus, request, serviceOperations } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteAuditStream } from "../../../../test/support/audit-stream.ts";
import { uniqueNamespace } from "../../../../test/support/nats-server.ts";
import { createTestDatabase } from "../../../../test/support/postgres.ts";
import { type OpenedDatabase, openDatabase } from "../db/connection.ts";
import { accessRequests, secrets, secretVersions, serviceTokens } from "../db/schema.ts";
import { type Keyring, loadOrCreateKeyring, loadOrCreateSealingKey } from "../keyring/index.ts";
import { hashToken } from "../service-tokens/token-hash.ts";
import { type RunningVault, startVault } from "../vault.ts";
import { seedSecrets } from "./seed-secrets.ts";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = uniqueNamespace("rot");
const admin = { actor: "alice", requestId: "r", ipAddress: "", userAgent: "" };
const serviceToken = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let opened: OpenedDatabase;
let dataDir: string;
let keyring: Keyring;
let vaultBus: Bus;
let client: Bus;
let vault: RunningVault;
let seeded: { id: string; name: string; value: string }[];

beforeAll(async () => {
  testDb = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "rotation-load-"));
  opened = await openDatabase({ databaseUrl: testDb.url, dataDir, maxConnections: 20 });
  keyring = await loadOrCreateKeyring({ dataDir });
  seeded = await seedSecrets(opened.db, keyring, {
    count: 10_000,
    prefix: "LOAD",
    valueOf: (i) => `load-value-${i}`,
  });
  const tokenId = Bun.randomUUIDv7();
  await opened.db.insert(serviceTokens).values({
    id: tokenId,
    serviceName: "reader",
    tokenHash: hashToken(serviceToken),
    status: "approved",
  });
  await opened.db.insert(accessRequests).values(
    seeded.slice(0, 200).map((secret) => ({
      id: Bun.randomUUIDv7(),
      secretId: secret.id,
      serviceName: "reader",
      status: "granted" as const,
      grantedBy: "seed",
    })),
  );
  vaultBus = await connectNatsBus({ url: natsUrl, namespace, logger: silentLogger, name: "rotation-vault" });
  client = await connectNatsBus({ url: natsUrl, namespace, logger: silentLogger, name: "rotation-client" });
  vault = await startVault({
    bus: vaultBus,
    db: opened.db,
    keyring,
    sealingKey: await loadOrCreateSealingKey({ dataDir }),
    logger: silentLogger,
    options: {
      auditTimeoutMs: 5_000,
      auditStream: { maxBytes: 512 * 1024 * 1024, maxAgeMs: 0 },
      usageFlushIntervalMs: 500,
      maxPendingTokens: 10,
      adminSessionTtlMs: 3_600_000,
      keyRotation: {
        rotationIntervalMs: 30 * 86_400_000,
        checkIntervalMs: 100,
        batchSize: 250,
        retireGraceMs: 0,
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await vault?.stop();
  await vaultBus?.close();
  await client?.close();
  await opened?.close();
  await deleteAuditStream(natsUrl, namespace);
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("rotation under load", () => {
  it("rotates and rewraps 10,000 secrets with zero failed reads", { timeout: 180_000 }, async () => {
    const granted = seeded.slice(0, 200);
    const outcome = { reads: 0, failures: [] as string[] };
    let running = true;
    const worker = async () => {
      while (running) {
        const secret = granted[Math.floor(Math.random() * granted.length)] ?? granted[0];
        if (!secret) return;
        try {
          const reply = await request(
            client,
            serviceOperations.getSecret,
            {
              secretName: secret.name,
              description: "",
              token: serviceToken,
              caller: undefined,
              replyKey: Buffer.alloc(0),
            },
            { timeoutMs: 10_000 },
          );
          if (reply.value !== secret.value) outcome.failures.push(`${secret.name}: wrong value`);
          outcome.reads += 1;
        } catch (error) {
          outcome.failures.push(`${secret.name}: ${(error as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await Bun.sleep(300);
    const before = keyring.activeKeyId;
    const rotated = await request(client, adminOperations.rotateKey, { admin }, { timeoutMs: 10_000 });
    expect(rotated.pendingRewrap).toBeGreaterThan(19_000);
    const readsAtRotation = outcome.reads;
    for (let i = 0; i < 1_200; i++) {
      const status = await request(client, adminOperations.keyStatus, { admin }, { timeoutMs: 10_000 });
      if (status.pendingRewrap === 0 && status.keyCount === 1) break;
      await Bun.sleep(100);
    }
    running = false;
    await Promise.all(workers);

    expect(outcome.failures).toEqual([]);
    expect(outcome.reads - readsAtRotation).toBeGreaterThan(50);
    expect(keyring.activeKeyId).not.toBe(before);
    expect(
      await opened.db.select({ id: secrets.id }).from(secrets).where(ne(secrets.keyId, keyring.activeKeyId)),
    ).toEqual([]);
    expect(
      await opened.db
        .select({ id: secretVersions.secretId })
        .from(secretVersions)
        .where(ne(secretVersions.keyId, keyring.activeKeyId)),
    ).toEqual([]);
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId]);
    const rows = await opened.db
      .select({ id: secrets.id, version: secrets.version, valueEncrypted: secrets.valueEncrypted })
      .from(secrets);
    const values = new Map(seeded.map((secret) => [secret.id, secret.value]));
    const decoder = new TextDecoder();
    const wrong = rows.filter(
      (row) =>
        decoder.decode(
          keyring.decrypt(row.valueEncrypted ?? new Uint8Array(), { secretId: row.id, version: row.version }),
        ) !== values.get(row.id),
    );
    expect(rows).toHaveLength(10_000);
    expect(wrong).toEqual([]);
    console.log(
      `rotation under load: ${outcome.reads} reads, ${outcome.reads - readsAtRotation} during rotation and rewrap, 0 failed`,
    );
  });
});
