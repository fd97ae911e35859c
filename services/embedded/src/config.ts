import { join } from "node:path";
import { type AdminApiConfig, parseAdminApiConfig } from "@secrets/admin-api";
import { ConfigError } from "@secrets/config";
import { type GatewayConfig, parseGatewayConfig } from "@secrets/gateway-grpc";
import { parseVaultConfig, type VaultConfig } from "@secrets/vault";

type Env = Record<string, string | undefined>;

/** Local development listens on the loopback interface unless told otherwise. */
export const embeddedDefaults = {
  GRPC_HOST: "127.0.0.1",
  ADMIN_HOST: "127.0.0.1",
  // The dashboard is served over plain http://localhost in development.
  ADMIN_COOKIE_SECURE: "false",
} as const;

export interface EmbeddedConfig {
  dataDir: string;
  vault: VaultConfig;
  gateway: GatewayConfig;
  adminApi: AdminApiConfig;
  /** The embedded audit journal (JSONL, fsynced before each acknowledgement). */
  journalPath: string;
}

/** Which mode `bun run dev` runs in: both NATS_URL and DATABASE_URL set → one process per service. */
export function devMode(env: Env): "embedded" | "processes" {
  const nats = Boolean(env.NATS_URL);
  const database = Boolean(env.DATABASE_URL);
  if (nats !== database) {
    throw new ConfigError([
      "Set both NATS_URL and DATABASE_URL to run each service as its own process, or neither for the embedded mode",
    ]);
  }
  return nats ? "processes" : "embedded";
}

/** Every service's configuration from one environment, all problems listed at once. */
export function parseEmbeddedConfig(environment: Env): EmbeddedConfig {
  const env = { ...embeddedDefaults, ...environment };
  const problems: string[] = [];
  const parse = <T>(parser: (e: Env) => T): T | undefined => {
    try {
      return parser(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) if (!problems.includes(problem)) problems.push(problem);
      return undefined;
    }
  };
  const vault = parse(parseVaultConfig);
  const gateway = parse(parseGatewayConfig);
  const adminApi = parse(parseAdminApiConfig);
  if (!vault || !gateway || !adminApi) throw new ConfigError(problems);
  return {
    dataDir: vault.dataDir,
    vault,
    gateway,
    adminApi,
    journalPath: join(vault.dataDir, "audit", "journal.jsonl"),
  };
}
