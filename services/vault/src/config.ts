import { busConfigChecks, busConfigFields } from "@secrets/bus";
import {
  type ConfigCheck,
  type ConfigOf,
  dataDirField,
  env,
  logLevelField,
  parseConfig,
} from "@secrets/config";
import { type OidcSettings, oidcConfigChecks, oidcConfigFields, oidcSettingsFromConfig } from "@secrets/oidc";
import { defaultPendingLimits, type PendingLimits } from "./db/pending-limits.ts";

/** Everything the vault reads from the environment; `main.ts` parses it once. */
export const vaultConfigSpec = {
  ...busConfigFields,
  databaseUrl: env.optionalUrl(
    "DATABASE_URL",
    "PostgreSQL URL; unset runs an embedded PGlite database under SECRETS_DATA_DIR",
    { protocols: ["postgres", "postgresql"] },
  ),
  dataDir: dataDirField,
  logLevel: logLevelField,
  databasePoolSize: env.int("DATABASE_POOL_SIZE", "PostgreSQL connections the vault keeps open", {
    default: 10,
    min: 1,
    max: 200,
  }),
  auditTimeoutMs: env.int("AUDIT_PUBLISH_TIMEOUT_MS", "longest wait for the audit stream to store an event", {
    default: 2_000,
    min: 50,
    max: 30_000,
  }),
  auditStreamMaxBytes: env.int(
    "AUDIT_STREAM_MAX_BYTES",
    "bytes of undelivered audit events the stream holds; when full, GetSecret fails closed",
    { default: 1024 * 1024 * 1024, min: 1024 * 1024 },
  ),
  auditStreamMaxAgeHours: env.int(
    "AUDIT_STREAM_MAX_AGE_HOURS",
    "hours an undelivered audit event is kept; 0 keeps it until delivered",
    { default: 0, min: 0 },
  ),
  usageFlushIntervalMs: env.int("USAGE_FLUSH_INTERVAL_MS", "how often access counters are written", {
    default: 1_000,
    min: 100,
    max: 10_000,
  }),
  adminBootstrapToken: env.optionalString(
    "ADMIN_BOOTSTRAP_TOKEN",
    "becomes the first admin token when no admin exists (at least 32 random bytes, base64url)",
  ),
  adminBootstrapName: env.string("ADMIN_BOOTSTRAP_NAME", "the name recorded for the bootstrap admin", {
    default: "admin",
  }),
  adminSessionTtlHours: env.int("ADMIN_SESSION_TTL_HOURS", "how long a dashboard session lasts", {
    default: 12,
    min: 1,
    max: 24 * 30,
  }),
  masterKeyFile: env.optionalString(
    "VAULT_MASTER_KEY_FILE",
    "file holding a 32-byte key (base64) that encrypts the key files, so the data directory alone reveals no key",
  ),
  migratePlaintextKeyFile: env.bool(
    "VAULT_MIGRATE_PLAINTEXT_KEY_FILE",
    "with VAULT_MASTER_KEY_FILE, wrap key files found in clear instead of refusing them (one start of one vault, when adding a master key)",
    { default: false },
  ),
  keyRotationIntervalDays: env.int("KEY_ROTATION_INTERVAL_DAYS", "days between automatic key rotations", {
    default: 30,
    min: 1,
    max: 3650,
  }),
  keyCheckIntervalMs: env.int(
    "KEY_CHECK_INTERVAL_MS",
    "how often the rotation schedule, the rewrap and shared key-file changes are looked at",
    { default: 60_000, min: 100 },
  ),
  rewrapBatchSize: env.int("REWRAP_BATCH_SIZE", "values re-encrypted per transaction by the rewrap", {
    default: 100,
    min: 1,
    max: 10_000,
  }),
  keyRetireGraceMs: env.int(
    "KEY_RETIRE_GRACE_MS",
    "how long a previous key stays after the last row moved off it (longer than KEY_CHECK_INTERVAL_MS)",
    { default: 300_000, min: 0 },
  ),
  pendingExpiryDays: env.int(
    "PENDING_EXPIRY_DAYS",
    "days a pending service token or access request waits for an admin before it is removed; 0 keeps them",
    { default: 30, min: 0, max: 3650 },
  ),
  secretVersionsKept: env.int(
    "SECRET_VERSIONS_KEPT",
    "values kept per secret for rollback, the current one included",
    {
      default: 10,
      min: 1,
      max: 1000,
    },
  ),
  cacheTtlMs: env.int(
    "VAULT_CACHE_TTL_MS",
    "longest a cached token, secret or access request is used; changes reach every vault at once, this bounds a lost notice; 0 turns caching off",
    { default: 2_000, min: 0, max: 60_000 },
  ),
  cacheMaxEntries: env.int(
    "VAULT_CACHE_MAX_ENTRIES",
    "tokens, secrets and access requests cached at most, each",
    {
      default: 10_000,
      min: 1,
      max: 1_000_000,
    },
  ),
  maxPendingTokens: env.int(
    "MAX_PENDING_TOKENS",
    "pending service tokens kept in all before registrations are refused",
    {
      default: 1_000,
      min: 1,
    },
  ),
  maxPendingTokensPerService: env.int(
    "MAX_PENDING_TOKENS_PER_SERVICE",
    "pending tokens one service name may have; further registrations of that name are refused until an admin decides",
    { default: defaultPendingLimits.tokensPerService, min: 1, max: 1_000 },
  ),
  maxPendingTokensPerAddress: env.int(
    "MAX_PENDING_TOKENS_PER_ADDRESS",
    "pending tokens registered from one client address; further registrations from it are refused until an admin decides",
    { default: defaultPendingLimits.tokensPerAddress, min: 1, max: 10_000 },
  ),
  maxPendingRequestsPerService: env.int(
    "MAX_PENDING_REQUESTS_PER_SERVICE",
    "pending access requests (and the stubs they come with) one service may have; further new names are refused until an admin decides",
    { default: defaultPendingLimits.requestsPerService, min: 1, max: 100_000 },
  ),
  // The admin API's SSO settings, same variables: the vault verifies admins' JWTs itself.
  ...oidcConfigFields,
};

type OidcField = keyof typeof oidcConfigFields;

export type VaultConfig = Omit<ConfigOf<typeof vaultConfigSpec>, OidcField> & {
  /** How admins' OIDC JWTs are verified (the ADMIN_OIDC_* variables); undefined without ADMIN_OIDC_ISSUER. */
  readonly oidc: OidcSettings | undefined;
};

/** The rules over several of the vault's variables together: the bus's and the ADMIN_OIDC_* ones. */
export const vaultConfigChecks: readonly ConfigCheck[] = [...busConfigChecks, ...oidcConfigChecks];

/** Parses the environment; throws a ConfigError listing every problem, cross-field ones included. */
export function parseVaultConfig(environment: Record<string, string | undefined>): VaultConfig {
  const { oidcIssuer, oidcAudience, oidcJwksUrl, oidcAdminScope, oidcAlgorithms, ...rest } = parseConfig(
    vaultConfigSpec,
    environment,
    vaultConfigChecks,
  );
  const oidc = oidcSettingsFromConfig({
    oidcIssuer,
    oidcAudience,
    oidcJwksUrl,
    oidcAdminScope,
    oidcAlgorithms,
  });
  return Object.freeze({ ...rest, oidc });
}

/** The key-rotation settings as the vault uses them. */
export function keyRotationOptions(
  config: Pick<
    VaultConfig,
    "keyRotationIntervalDays" | "keyCheckIntervalMs" | "rewrapBatchSize" | "keyRetireGraceMs"
  >,
) {
  return {
    rotationIntervalMs: config.keyRotationIntervalDays * 86_400_000,
    checkIntervalMs: config.keyCheckIntervalMs,
    batchSize: config.rewrapBatchSize,
    retireGraceMs: config.keyRetireGraceMs,
  };
}

/** The limits of the pending queues as the vault uses them. */
export function pendingLimitsOptions(
  config: Pick<
    VaultConfig,
    | "maxPendingTokensPerService"
    | "maxPendingTokensPerAddress"
    | "maxPendingTokens"
    | "maxPendingRequestsPerService"
  >,
): PendingLimits {
  return {
    tokensPerService: config.maxPendingTokensPerService,
    tokensPerAddress: config.maxPendingTokensPerAddress,
    tokensTotal: config.maxPendingTokens,
    requestsPerService: config.maxPendingRequestsPerService,
  };
}

/** The expiry of pending approvals as the vault uses it. */
export function pendingExpiryOptions(config: Pick<VaultConfig, "pendingExpiryDays">) {
  return { maxAgeMs: config.pendingExpiryDays * 86_400_000, checkIntervalMs: 3_600_000 };
}
