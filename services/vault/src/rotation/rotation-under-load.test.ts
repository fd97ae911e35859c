/**
 * Done-when of key rotation: 10,000 secrets, GetSecret traffic running the whole time, an admin rotates
 * the key, and the rewrap moves everything: zero failed reads, and every row on the new key afterwards.
 * Real PostgreSQL, real NATS, the vault wired as in production.
 */
import { adminOperations, request, serviceOperations } from "@secrets/bus";
import { testAdminContext } from "@secrets/test/support/admin-bus-client";
import { newServiceToken } from "@secrets/test/support/tokens";
import { ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVaultCluster, type VaultCluster, type VaultReplica } from "../../test/harness.ts";
import { accessRequests, secrets, secretVersions, serviceTokens } from "../db/schema.ts";
import { hashToken } from "../service-tokens/token-hash.ts";
import { seedSecrets } from "./seed-secrets.ts";

const admin = testAdminContext();
const serviceToken = newServiceToken();

let cluster: VaultCluster;
let replica: VaultReplica;
let seeded: { id: string; name: string; value: string }[];

beforeAll(async () => {
  cluster = await startVaultCluster({ name: "rot" });
  replica = await cluster.startReplica({
    maxConnections: 20,
    async beforeStart({ db, keyring }) {
      seeded = await seedSecrets(db, keyring, {
        count: 10_000,
        prefix: "LOAD",
        valueOf: (i) => `load-value-${i}`,
      });
      const tokenId = Bun.randomUUIDv7();
      await db.insert(serviceTokens).values({
        id: tokenId,
        serviceName: "reader",
        tokenHash: hashToken(serviceToken),
        status: "approved",
      });
      await db.insert(accessRequests).values(
        seeded.slice(0, 200).map((secret) => ({
          id: Bun.randomUUIDv7(),
          secretId: secret.id,
          serviceName: "reader",
          status: "granted" as const,
          grantedBy: "seed",
        })),
      );
    },
    options: {
      auditTimeoutMs: 5_000,
      auditStream: { maxBytes: 512 * 1024 * 1024, maxAgeMs: 0 },
      usageFlushIntervalMs: 500,
      maxPendingTokens: 10,
      outboxIntervalMs: undefined, // the default sweep, as in production
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
  await cluster?.dispose();
});

describe("rotation under load", () => {
  it("rotates and rewraps 10,000 secrets with zero failed reads", { timeout: 180_000 }, async () => {
    const { client } = cluster;
    const { keyring, database: opened } = replica;
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
    let readsAtRotation = 0;
    // The readers stop however this ends: a failure here must not leave them running.
    try {
      const rotated = await request(client, adminOperations.rotateKey, { admin }, { timeoutMs: 10_000 });
      expect(rotated.pendingRewrap).toBeGreaterThan(19_000);
      readsAtRotation = outcome.reads;
      for (let i = 0; i < 1_200; i++) {
        const status = await request(client, adminOperations.keyStatus, { admin }, { timeoutMs: 10_000 });
        if (status.pendingRewrap === 0 && status.keyCount === 1) break;
        await Bun.sleep(100);
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }

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
