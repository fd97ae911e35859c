/**
 * `bun run dev`: Secrets Service with one command.
 *
 * - Embedded (default): every service in this process, with no external server: PGlite and the audit
 *   journal under SECRETS_DATA_DIR, the in-process bus, self-signed TLS for gRPC.
 * - With NATS_URL and DATABASE_URL (and LOKI_URL when set): each service as its own process.
 *
 * It prints the dashboard URL, the gRPC address, the CA certificate and, on first start, an admin token.
 */
import { ConfigError } from "@secrets/config";
import { createLogger } from "@secrets/logger";
import { type BannerFacts, banner, newAdminToken } from "./banner.ts";
import { devMode, parseEmbeddedConfig } from "./config.ts";
import { dashboardIsStale, ensureDashboardBuilt } from "./dashboard-build.ts";
import { startEmbedded } from "./embedded.ts";
import { startProcesses } from "./processes.ts";

// Every file this process (and each service it starts) creates is its owner's alone: PGlite's files,
// the keys, the audit journal, the TLS key.
process.umask(0o077);

const env = process.env;
let mode: "embedded" | "processes";
let config: ReturnType<typeof parseEmbeddedConfig> | undefined;
try {
  mode = devMode(env);
  if (mode === "embedded") config = parseEmbeddedConfig(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger({ service: "secrets-dev", level: config?.vault.logLevel ?? "info" });
if (dashboardIsStale()) {
  process.stderr.write("Building the dashboard (web/dist) first; this takes a few seconds…\n");
  await ensureDashboardBuilt().catch((error: unknown) => {
    // The API works without it; `/` then says how to build it.
    logger.warn("could not build the dashboard; run `bun run web:build`", { error });
  });
}
const bootstrapFromEnv = Boolean(env.ADMIN_BOOTSTRAP_TOKEN);
const adminBootstrap = {
  token: env.ADMIN_BOOTSTRAP_TOKEN || newAdminToken(),
  name: env.ADMIN_BOOTSTRAP_NAME || "admin",
};

const running: {
  facts: Omit<BannerFacts, "bootstrapFromEnv">;
  stop(): Promise<void>;
  exited?: Promise<string>;
} =
  mode === "embedded" && config
    ? await startEmbedded(config, logger, adminBootstrap)
    : await startProcesses(env, adminBootstrap);
const facts = { ...running.facts, bootstrapFromEnv };
if (bootstrapFromEnv) facts.generatedAdminToken = undefined;
process.stdout.write(banner(facts));
logger.info("secrets dev ready", {
  mode: facts.mode,
  dashboardUrl: facts.dashboardUrl,
  grpcAddress: facts.grpcAddress,
  caCertPath: facts.caCertPath,
  dataDir: facts.dataDir,
});

let stopping = false;
async function stop(signal: string, code = 0): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info("stopping", { signal });
  await running.stop();
  logger.info("stopped");
  process.exit(code);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
if (running.exited) {
  void running.exited.then((name) => {
    if (stopping) return;
    logger.error("a service exited; stopping the others", { service: name });
    void stop("child-exit", 1);
  });
}
