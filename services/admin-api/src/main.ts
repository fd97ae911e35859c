/**
 * The admin API process: `bun services/admin-api/src/main.ts`. The only place that reads the
 * environment and listens; SIGTERM/SIGINT stop the server, close the bus and exit 0.
 */
import { type Bus, connectBusFromConfig } from "@secrets/bus";
import { ConfigError } from "@secrets/config";
import { createLogger } from "@secrets/logger";
import { type AdminApp, createApp } from "./app.ts";
import { type AdminApiConfig, parseAdminApiConfig } from "./config.ts";

let config: AdminApiConfig;
try {
  config = parseAdminApiConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger({ service: "admin-api", level: config.logLevel });
let bus: Bus | undefined;
let app: AdminApp | undefined;
let stopping = false;

async function stop(signal: string): Promise<void> {
  if (stopping) {
    logger.warn("second signal: exiting without waiting", { signal });
    process.exit(1);
  }
  stopping = true;
  logger.info("shutting down", { signal });
  await app?.stop();
  await bus?.close();
  logger.info("stopped");
  process.exit(0);
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));

logger.info("connecting to NATS", { namespace: config.busNamespace });
bus = await connectBusFromConfig(config, "admin-api", logger).catch((error: unknown) => {
  logger.error("cannot connect to NATS", { error });
  process.exit(1);
});
if (stopping) process.exit(0);

app = createApp({ bus, logger, config });
try {
  app.listen({
    hostname: config.host,
    port: config.port,
    // A backstop for bodies without Content-Length; the parser refuses anything over maxBodyBytes first.
    maxRequestBodySize: config.maxBodyBytes * 2,
  });
} catch (error) {
  logger.error(`cannot listen on ${config.host}:${config.port}`, { error });
  process.exit(1);
}

const server = app.server;
const shownHost = server?.hostname === "0.0.0.0" ? "localhost" : server?.hostname;
logger.info("admin api listening", {
  url: `http://${shownHost?.includes(":") ? `[${shownHost}]` : shownHost}:${server?.port}`,
  host: config.host,
  port: server?.port,
  oidc: config.oidcIssuer !== undefined,
});
