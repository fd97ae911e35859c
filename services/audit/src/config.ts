/**
 * The audit service's configuration: one spec with a description per variable, parsed once in `main.ts`
 * and frozen. Defaults that depend on other variables (the sink, the file paths) are resolved here too.
 */
import { join } from "node:path";
import { busConfigChecks, busConfigFields } from "@secrets/bus";
import {
  ConfigError,
  type ConfigField,
  type ConfigOf,
  dataDirField,
  env,
  logLevelField,
  parseConfig,
} from "@secrets/config";

/** Where shipped events go. */
export const AuditSinkName = { loki: "loki", file: "file", stdout: "stdout" } as const;
export type AuditSinkName = (typeof AuditSinkName)[keyof typeof AuditSinkName];
const sinkNames = Object.values(AuditSinkName);

/** `AUDIT_SINK`: optional, because its default depends on `LOKI_URL`. */
const sinkField: ConfigField<AuditSinkName | undefined> = {
  name: "AUDIT_SINK",
  description: "where events go: loki, file or stdout; unset: loki when LOKI_URL is set, else stdout",
  fallback: { value: undefined },
  parse: (raw) =>
    (sinkNames as readonly string[]).includes(raw)
      ? { ok: true, value: raw as AuditSinkName }
      : { ok: false, problem: `must be one of: ${sinkNames.join(", ")}` },
};

export const auditConfigSpec = {
  ...busConfigFields,
  logLevel: logLevelField,
  dataDir: dataDirField,
  sink: sinkField,
  lokiUrl: env.optionalUrl("LOKI_URL", "Loki's base URL, such as http://loki:3100", {
    protocols: ["http", "https"],
  }),
  lokiTenant: env.optionalString("LOKI_TENANT", "tenant sent as X-Scope-OrgID (multi-tenant Loki)"),
  lokiUsername: env.optionalString("LOKI_USERNAME", "user for HTTP basic authentication to Loki"),
  lokiPassword: env.optionalString("LOKI_PASSWORD", "password for LOKI_USERNAME"),
  lokiGzip: env.bool("LOKI_GZIP", "gzip push bodies (Content-Encoding: gzip)", { default: true }),
  lokiTimeoutMs: env.int("LOKI_TIMEOUT_MS", "longest wait for one Loki request, in ms", {
    default: 10_000,
    min: 100,
    max: 300_000,
  }),
  lokiPushMaxBytes: env.int(
    "LOKI_PUSH_MAX_BYTES",
    "most line bytes in one Loki push (keep below Loki's ingestion burst, 6 MB, and its 4 MiB gRPC message)",
    { default: 1_048_576, min: 1_024, max: 64 * 1_048_576 },
  ),
  environment: env.string("AUDIT_ENV", "the `env` label on every Loki stream", {
    default: "production",
    pattern: /^[A-Za-z0-9_.-]{1,64}$/,
  }),
  filePath: env.optionalString(
    "AUDIT_FILE_PATH",
    "the JSONL journal of AUDIT_SINK=file; unset: $SECRETS_DATA_DIR/audit.jsonl",
  ),
  parkFile: env.optionalString(
    "AUDIT_PARK_FILE",
    "where events the sink refuses for good are kept; unset: $SECRETS_DATA_DIR/audit-parked.jsonl",
  ),
  consumerName: env.string("AUDIT_CONSUMER_NAME", "durable consumer name on the audit stream", {
    default: "audit-shipper",
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
  }),
  batchMax: env.int("AUDIT_BATCH_MAX", "most events in one batch", { default: 1_000, min: 1, max: 10_000 }),
  batchWaitMs: env.int("AUDIT_BATCH_WAIT_MS", "longest wait to fill a batch, in ms (JetStream: 1000+)", {
    default: 1_000,
    min: 1_000,
    max: 60_000,
  }),
  ackWaitMs: env.int(
    "AUDIT_ACK_WAIT_MS",
    "an unacknowledged event is redelivered after this long, in ms (kept alive while its push retries)",
    { default: 10_000, min: 2_000, max: 600_000 },
  ),
  leaseTtlMs: env.int(
    "AUDIT_LEASE_TTL_MS",
    "how long the active shipper's lease lasts unrenewed, in ms; renewed every third of it",
    { default: 15_000, min: 1_000, max: 600_000 },
  ),
  retryBaseMs: env.int("AUDIT_RETRY_BASE_MS", "first retry delay after a failed push, in ms", {
    default: 500,
    min: 10,
    max: 60_000,
  }),
  retryMaxMs: env.int("AUDIT_RETRY_MAX_MS", "longest retry delay, in ms", {
    default: 30_000,
    min: 10,
    max: 600_000,
  }),
  summaryIntervalMs: env.int("AUDIT_SUMMARY_INTERVAL_MS", "how often a summary line is logged, in ms", {
    default: 30_000,
    min: 1_000,
    max: 3_600_000,
  }),
  digestIntervalMs: env.int(
    "AUDIT_DIGEST_INTERVAL_MS",
    "how often a signed digest of the trail's hash chain is shipped (and once at shutdown), in ms",
    { default: 60_000, min: 1_000, max: 3_600_000 },
  ),
};

type ParsedAuditConfig = ConfigOf<typeof auditConfigSpec>;

export type AuditConfig = Readonly<
  Omit<ParsedAuditConfig, "sink" | "filePath" | "parkFile"> & {
    sink: AuditSinkName;
    filePath: string;
    parkFile: string;
  }
>;

function crossFieldProblems(config: ParsedAuditConfig): string[] {
  const problems: string[] = [];
  if (config.sink === "loki" && config.lokiUrl === undefined) {
    problems.push("AUDIT_SINK=loki needs LOKI_URL");
  }
  if ((config.lokiUsername === undefined) !== (config.lokiPassword === undefined)) {
    problems.push("LOKI_USERNAME and LOKI_PASSWORD must be set together");
  }
  // A successor waits out the lease (renewed every third of it); by then the events its predecessor had
  // in flight are due for redelivery, so they are shipped first and the order holds.
  if (3 * config.ackWaitMs > 2 * config.leaseTtlMs) {
    problems.push("AUDIT_ACK_WAIT_MS must be at most two thirds of AUDIT_LEASE_TTL_MS");
  }
  if (config.ackWaitMs < 2 * config.batchWaitMs) {
    problems.push("AUDIT_ACK_WAIT_MS must be at least twice AUDIT_BATCH_WAIT_MS");
  }
  if (config.retryBaseMs > config.retryMaxMs) {
    problems.push("AUDIT_RETRY_BASE_MS must not exceed AUDIT_RETRY_MAX_MS");
  }
  return problems;
}

/** Parses, checks and freezes the configuration; throws a ConfigError listing every problem. */
export function parseAuditConfig(environment: Record<string, string | undefined>): AuditConfig {
  const parsed = parseConfig(auditConfigSpec, environment, busConfigChecks);
  const problems = crossFieldProblems(parsed);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...parsed,
    sink: parsed.sink ?? (parsed.lokiUrl === undefined ? AuditSinkName.stdout : AuditSinkName.loki),
    filePath: parsed.filePath ?? join(parsed.dataDir, "audit.jsonl"),
    parkFile: parsed.parkFile ?? join(parsed.dataDir, "audit-parked.jsonl"),
  });
}
