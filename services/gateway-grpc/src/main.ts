/**
 * The gateway process: `bun services/gateway-grpc/src/main.ts`. The only place that reads the
 * environment; it wires the configuration, the bus, TLS and the server, and handles SIGTERM/SIGINT.
 */
import { type Bus, connectBusFromConfig } from "@secrets/bus";
import { ConfigError } from "@secrets/config";
import { createLogger } from "@secrets/logger";
import { type GatewayConfig, parseGatewayConfig } from "./config.ts";
import { createCoalescedLogWriter } from "./log-writer.ts";
import { createGatewayServer, type GatewayServer, hostPort } from "./server.ts";
import { gatewayServerOptions } from "./server-options.ts";
import { loadServerTls, TlsSetupError } from "./tls.ts";

// Every file this process creates (the generated TLS key and certificates) is its owner's alone.
process.umask(0o077);

let config: GatewayConfig;
try {
  config = parseGatewayConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logWriter = createCoalescedLogWriter();
process.on("exit", () => logWriter.flushSync());
const logger = createLogger({ service: "gateway-grpc", level: config.logLevel, write: logWriter.write });
let bus: Bus | undefined;
let gateway: GatewayServer | undefined;
let stopping = false;

async function stop(signal: string): Promise<void> {
  if (stopping) {
    logger.warn("second signal: exiting without waiting", { signal });
    process.exit(1);
  }
  stopping = true;
  logger.info("shutting down", { signal, graceMs: config.shutdownGraceMs });
  await gateway?.shutdown(config.shutdownGraceMs);
  await bus?.close();
  logger.info("stopped");
  process.exit(0);
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));

function fail(message: string, error: unknown): never {
  logger.error(message, { error });
  process.exit(1);
}

const tls = await loadServerTls(config, logger).catch((error: unknown) =>
  fail(error instanceof TlsSetupError ? error.message : "cannot set up TLS", error),
);
if (tls.mode === "generated" && tls.action !== "reused") {
  logger.info(`TLS material ${tls.action}`, { caCertPath: tls.caCertPath, notAfter: tls.notAfter });
}

logger.info("connecting to NATS", { namespace: config.busNamespace });
bus = await connectBusFromConfig(config, "gateway-grpc", logger).catch((error: unknown) =>
  fail("cannot connect to NATS", error),
);
if (stopping) process.exit(0);

// Every setting goes through `gatewayServerOptions`, which the embedded mode uses too.
gateway = createGatewayServer({ bus, logger, ...gatewayServerOptions(config) });
const port = await gateway
  .listen(config.grpcHost, config.grpcPort, tls.credentials)
  .catch((error: unknown) => fail(`cannot listen on ${hostPort(config.grpcHost, config.grpcPort)}`, error));

logger.info("gateway listening", {
  address: hostPort(config.grpcHost, port),
  tls: tls.mode,
  ...(tls.mode === "generated" ? { caCertPath: tls.caCertPath } : {}),
});

// The certificate is loaded once; a restart picks up a renewed one (generated material renews itself).
if (tls.mode !== "insecure") {
  const { notAfter } = tls;
  const warnIfExpiring = () => {
    const daysLeft = (notAfter.getTime() - Date.now()) / 86_400_000;
    if (daysLeft < 30) {
      logger.warn("the TLS certificate expires soon; restart the gateway to load a renewed one", {
        notAfter,
      });
    }
  };
  setInterval(warnIfExpiring, 12 * 60 * 60 * 1000).unref();
}
