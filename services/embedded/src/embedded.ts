import { join, resolve } from "node:path";
import { createApp } from "@secrets/admin-api";
import { createFileQueryBackend, JournalStreamStore, serveAuditQueries } from "@secrets/audit";
import { MemoryBus } from "@secrets/bus";
import { createGatewayServer, gatewayServerOptions, loadServerTls } from "@secrets/gateway-grpc";
import type { Logger } from "@secrets/logger";
import {
  createAdminJwtVerifier,
  keyRotationOptions,
  loadMasterKey,
  loadOrCreateKeyring,
  loadOrCreateSealingKey,
  openDatabase,
  pendingExpiryOptions,
  pendingLimitsOptions,
  securePrivateDataDir,
  startVault,
} from "@secrets/vault";
import type { BannerFacts } from "./banner.ts";
import type { EmbeddedConfig } from "./config.ts";

export interface RunningEmbedded {
  facts: Omit<BannerFacts, "bootstrapFromEnv">;
  stop(): Promise<void>;
}

/**
 * Every service in this process: the vault on PGlite under the data directory, the gateway with
 * self-signed TLS, the admin API with the dashboard, and audit queries over the fsynced journal, all on
 * the in-process bus. The same code as the separate processes; only the bus and the stores differ.
 */
export async function startEmbedded(
  config: EmbeddedConfig,
  logger: Logger,
  adminBootstrap: { token: string; name: string },
): Promise<RunningEmbedded> {
  const { vault: vaultConfig, gateway: gatewayConfig, adminApi } = config;
  // Before anything writes there: PGlite, the keys, the journal and the TLS key all live under it.
  const dataDir = await securePrivateDataDir(config.dataDir, logger);
  const journal = new JournalStreamStore(config.journalPath);
  const bus = new MemoryBus({
    namespace: vaultConfig.busNamespace,
    logger: logger.child({ part: "bus" }),
    streams: journal,
  });
  const database = await openDatabase({ dataDir: vaultConfig.dataDir, maxConnections: 1 });
  await dataDir.afterOpen();
  const masterKey =
    vaultConfig.masterKeyFile === undefined ? undefined : await loadMasterKey(vaultConfig.masterKeyFile);
  const vault = await startVault({
    bus,
    db: database.db,
    keyring: await loadOrCreateKeyring({
      dataDir: vaultConfig.dataDir,
      masterKey,
      migratePlaintext: vaultConfig.migratePlaintextKeyFile,
    }),
    sealingKey: await loadOrCreateSealingKey({
      dataDir: vaultConfig.dataDir,
      masterKey,
      migratePlaintext: vaultConfig.migratePlaintextKeyFile,
    }),
    logger: logger.child({ part: "vault" }),
    options: {
      auditTimeoutMs: vaultConfig.auditTimeoutMs,
      auditStream: { maxBytes: -1, maxAgeMs: 0 },
      usageFlushIntervalMs: vaultConfig.usageFlushIntervalMs,
      maxPendingTokens: vaultConfig.maxPendingTokens,
      pendingLimits: pendingLimitsOptions(vaultConfig),
      secretVersionsKept: vaultConfig.secretVersionsKept,
      keyRotation: keyRotationOptions(vaultConfig),
      pendingExpiry: pendingExpiryOptions(vaultConfig),
      adminSessionTtlMs: vaultConfig.adminSessionTtlHours * 3_600_000,
      adminBootstrap,
      adminJwt: vaultConfig.oidc === undefined ? undefined : createAdminJwtVerifier(vaultConfig.oidc),
    },
  });
  const audit = serveAuditQueries(bus, {
    backend: createFileQueryBackend(config.journalPath),
    logger: logger.child({ part: "audit" }),
  });

  const tls = await loadServerTls(gatewayConfig, logger);
  const gateway = createGatewayServer({
    bus,
    logger: logger.child({ part: "gateway-grpc" }),
    ...gatewayServerOptions(gatewayConfig),
  });
  const grpcPort = await gateway.listen(gatewayConfig.grpcHost, gatewayConfig.grpcPort, tls.credentials);

  const app = createApp({ bus, logger: logger.child({ part: "admin-api" }), config: adminApi });
  app.listen({ hostname: adminApi.host, port: adminApi.port, maxRequestBodySize: adminApi.maxBodyBytes * 2 });
  const shown = (host: string) => (host === "0.0.0.0" || host === "127.0.0.1" ? "localhost" : host);

  return {
    facts: {
      mode: "embedded",
      dashboardUrl: `http://${shown(adminApi.host)}:${app.server?.port}/`,
      grpcAddress: `${shown(gatewayConfig.grpcHost)}:${grpcPort}`,
      caCertPath: tls.mode === "generated" ? resolve(tls.caCertPath) : undefined,
      generatedAdminToken: vault.adminBootstrapped ? adminBootstrap.token : undefined,
      dataDir: resolve(config.dataDir),
    },
    async stop() {
      await app.stop();
      await gateway.shutdown(gatewayConfig.shutdownGraceMs);
      await audit.unsubscribe();
      await vault.stop();
      await bus.close();
      await journal.close();
      await database.close();
    },
  };
}

export const journalPathFor = (dataDir: string) => join(dataDir, "audit", "journal.jsonl");
