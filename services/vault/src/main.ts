/**
 * The vault process: `bun services/vault/src/main.ts`. The only process with the database and the keys;
 * it serves the vault's operations on the bus in the queue group `vault`.
 */
import { connectBusFromConfig } from "@secrets/bus";
import { parseConfigOrExit } from "@secrets/config";
import { createLogger } from "@secrets/logger";
import { oidcSettingsFromConfig } from "@secrets/oidc";
import { createAdminJwtVerifier } from "./admin/admin-jwt.ts";
import {
  keyRotationOptions,
  pendingExpiryOptions,
  pendingLimitsOptions,
  vaultConfigChecks,
  vaultConfigSpec,
} from "./config.ts";
import { securePrivateDataDir } from "./data-dir/private-data-dir.ts";
import { openDatabase } from "./db/connection.ts";
import { loadMasterKey, loadOrCreateKeyring, loadOrCreateSealingKey } from "./keyring/index.ts";
import { startVault } from "./vault.ts";

// Every file this process creates (keys, PGlite's WAL and catalog) is its owner's alone, whatever mode
// the code or library creating it asks for.
process.umask(0o077);

const config = parseConfigOrExit(vaultConfigSpec, process.env, vaultConfigChecks);
const oidc = oidcSettingsFromConfig(config);
const logger = createLogger({ service: "vault", level: config.logLevel });

const dataDir = await securePrivateDataDir(config.dataDir, logger).catch((error: unknown) => {
  logger.error("the data directory cannot be made private; refusing to start", { error });
  process.exit(1);
});
const database = await openDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  maxConnections: config.databasePoolSize,
  // Logged at the first failure, then about every half minute, until the server answers.
  onUnreachable: (error, attempt) => {
    if (attempt === 0 || attempt % 6 === 5) {
      logger.warn("cannot reach PostgreSQL yet; retrying until it answers", { attempt: attempt + 1, error });
    }
  },
});
await dataDir.afterOpen();
const masterKey = config.masterKeyFile === undefined ? undefined : await loadMasterKey(config.masterKeyFile);
const migratePlaintext = config.migratePlaintextKeyFile;
const keyring = await loadOrCreateKeyring({ dataDir: config.dataDir, masterKey, migratePlaintext });
const sealingKey = await loadOrCreateSealingKey({ dataDir: config.dataDir, masterKey, migratePlaintext });
const bus = await connectBusFromConfig(config, "vault", logger);
const vault = await startVault({
  bus,
  db: database.db,
  keyring,
  sealingKey,
  logger,
  options: {
    auditTimeoutMs: config.auditTimeoutMs,
    auditStream: {
      maxBytes: config.auditStreamMaxBytes,
      maxAgeMs: config.auditStreamMaxAgeHours * 3_600_000,
    },
    usageFlushIntervalMs: config.usageFlushIntervalMs,
    maxPendingTokens: config.maxPendingTokens,
    pendingLimits: pendingLimitsOptions(config),
    secretVersionsKept: config.secretVersionsKept,
    keyRotation: keyRotationOptions(config),
    pendingExpiry: pendingExpiryOptions(config),
    cache: { ttlMs: config.cacheTtlMs, maxEntries: config.cacheMaxEntries },
    adminSessionTtlMs: config.adminSessionTtlHours * 3_600_000,
    adminBootstrap:
      config.adminBootstrapToken === undefined
        ? undefined
        : { token: config.adminBootstrapToken, name: config.adminBootstrapName },
    adminJwt: oidc === undefined ? undefined : createAdminJwtVerifier(oidc),
  },
});
logger.info("vault ready", {
  database: database.kind,
  namespace: bus.namespace,
  activeKeyId: keyring.activeKeyId,
  pid: process.pid,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("vault stopping", { signal });
  await vault.stop();
  await bus.close();
  await database.close();
  logger.info("vault stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
