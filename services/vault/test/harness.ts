/**
 * Vaults in the test process on real PostgreSQL and NATS, several replicas sharing one database, one key
 * directory and one bus namespace as in production, and a client bus to call them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bus, connectNatsBus, request, type Subscription, serviceOperations } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { ServiceTokenStatus } from "@secrets/proto/admin";
import { adminBusClient } from "@secrets/test/support/admin-bus-client";
import { deleteAuditStream } from "@secrets/test/support/audit-stream";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { createTestDatabase } from "@secrets/test/support/postgres";
import { newServiceToken, testAdmin } from "@secrets/test/support/tokens";
import { type Database, type OpenedDatabase, openDatabase } from "../src/db/connection.ts";
import { type Keyring, loadOrCreateKeyring, loadOrCreateSealingKey } from "../src/keyring/index.ts";
import { type RunningVault, startVault, type VaultOptions } from "../src/vault.ts";

export const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
export const caller = { requestId: "req-test", ipAddress: "10.0.0.7", userAgent: "vault-harness" };

/**
 * A bus that serves only the subjects `serves` accepts: the replica it is given to never answers the
 * others, so a test decides which replica handles what.
 */
export function servingOnly(bus: Bus, serves: (subject: string) => boolean): Bus {
  const skipped: Subscription = { unsubscribe: async () => {} };
  return new Proxy(bus, {
    get(target, property, receiver) {
      if (property === "serve") {
        return (subject: string, options: { queue: string }, handler: Parameters<Bus["serve"]>[2]) =>
          serves(subject) ? target.serve(subject, options, handler) : skipped;
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** What every in-process vault runs with unless its suite says otherwise: short intervals, small limits. */
export const testVaultOptions: VaultOptions = {
  auditTimeoutMs: 2_000,
  auditStream: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 0 },
  usageFlushIntervalMs: 100,
  maxPendingTokens: 50,
  outboxIntervalMs: 200,
  adminSessionTtlMs: 3_600_000,
  // The admin tests act as on the bus (`adminBusClient`).
  adminBootstrap: testAdmin,
};

export interface ReplicaOptions {
  /** Narrows what the replica serves (see `servingOnly`). */
  wrap?: (bus: Bus) => Bus;
  /** Merged over `testVaultOptions`. */
  options?: Partial<VaultOptions>;
  /** The replica's PostgreSQL pool size; default 5. */
  maxConnections?: number;
  /** Runs on the replica's database and key ring before the vault starts, to seed rows. */
  beforeStart?: (opened: { db: Database; keyring: Keyring }) => Promise<void>;
}

/** One replica: the vault and what it was given, for suites that look underneath it. */
export interface VaultReplica {
  vault: RunningVault;
  /** The replica's own connection, unwrapped. */
  bus: Bus;
  database: OpenedDatabase;
  keyring: Keyring;
}

export interface VaultCluster {
  namespace: string;
  databaseUrl: string;
  /** The key directory every replica shares. */
  dataDir: string;
  /** The test's own connection, for requests and admin operations. */
  client: Bus;
  admin: ReturnType<typeof adminBusClient>;
  /** Starts another replica on its own connection and database pool. */
  startReplica(options?: ReplicaOptions): Promise<VaultReplica>;
  /** Stops the replicas, newest first, then drops the database, the audit stream and the key directory. */
  dispose(): Promise<void>;
}

/**
 * A fresh database, key directory and bus namespace with no replica yet; `name` prefixes the namespace.
 *
 * @example
 * const cluster = await startVaultCluster({ name: "watch" });
 * await cluster.startReplica({ options: { secretVersionsKept: 5 } });
 */
export async function startVaultCluster({ name = "vaultc" }: { name?: string } = {}): Promise<VaultCluster> {
  const namespace = uniqueNamespace(name);
  const testDb = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), `vault-${name}-`));
  const client = await connectNatsBus({
    url: natsUrl,
    namespace,
    logger: silentLogger,
    name: `${name}-client`,
  });
  const stops: (() => Promise<void>)[] = [];
  return {
    namespace,
    databaseUrl: testDb.url,
    dataDir,
    client,
    admin: adminBusClient(client),
    async startReplica(options = {}) {
      const database = await openDatabase({
        databaseUrl: testDb.url,
        dataDir,
        maxConnections: options.maxConnections ?? 5,
      });
      stops.push(() => database.close());
      const keyring = await loadOrCreateKeyring({ dataDir });
      await options.beforeStart?.({ db: database.db, keyring });
      const bus = await connectNatsBus({
        url: natsUrl,
        namespace,
        logger: silentLogger,
        name: `${name}-replica`,
      });
      stops.push(() => bus.close());
      const vault = await startVault({
        bus: options.wrap ? options.wrap(bus) : bus,
        db: database.db,
        keyring,
        sealingKey: await loadOrCreateSealingKey({ dataDir }),
        logger: silentLogger,
        options: { ...testVaultOptions, ...options.options },
      });
      stops.push(() => vault.stop());
      return { vault, bus, database, keyring };
    },
    async dispose() {
      for (const stop of stops.reverse()) await stop();
      await client.close();
      await deleteAuditStream(natsUrl, namespace);
      await testDb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Registers a token for `serviceName` and approves it; returns the token and its id. */
export async function approvedService(cluster: VaultCluster, serviceName: string) {
  const token = newServiceToken();
  await request(
    cluster.client,
    serviceOperations.registerToken,
    { serviceName, serviceVersion: "1.0.0", token, caller },
    { timeoutMs: 5_000 },
  );
  const { serviceTokens } = await cluster.admin.listServiceTokens(ServiceTokenStatus.PENDING);
  const row = serviceTokens.find((candidate) => candidate.serviceName === serviceName);
  if (!row) throw new Error(`no pending token for ${serviceName}`);
  await cluster.admin.approveToken(row.id);
  return { token, tokenId: row.id };
}

export const getSecret = (cluster: VaultCluster, token: string, secretName: string, description = "") =>
  request(
    cluster.client,
    serviceOperations.getSecret,
    { secretName, description, token, caller, replyKey: Buffer.alloc(0) }, // in clear: read here directly
    { timeoutMs: 5_000 },
  );

export const getSecrets = (
  cluster: VaultCluster,
  token: string,
  secrets: { secretName: string; description?: string }[],
) =>
  request(
    cluster.client,
    serviceOperations.getSecrets,
    {
      secrets: secrets.map((s) => ({ secretName: s.secretName, description: s.description ?? "" })),
      token,
      caller,
      replyKey: Buffer.alloc(0),
    },
    { timeoutMs: 5_000 },
  );
