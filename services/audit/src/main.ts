/**
 * The audit process: `bun services/audit/src/main.ts`. The only place that reads the environment; it
 * wires the configuration, the bus, the sink, the shipper and the bus operations, and handles
 * SIGTERM/SIGINT (a clean stop hands the lease over at once).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { connectBusFromConfig, newLeaseHolder, type Subscription } from "@secrets/bus";
import { ConfigError } from "@secrets/config";
import { createLogger } from "@secrets/logger";
import { type AuditConfig, parseAuditConfig } from "./config.ts";
import { serveAuditQueries } from "./handlers/query-handler.ts";
import { serveAuditStatus } from "./handlers/status-handler.ts";
import { openParkFile } from "./shipper/parking.ts";
import { createShipper, type Shipper } from "./shipper/shipper.ts";
import { createSinkFromConfig, findLinkFromConfig, trailLinesFromConfig } from "./sinks/create-sink.ts";
import { createAuditTrail } from "./trail/audit-trail.ts";
import { fileChainCheckpoint } from "./trail/chain-checkpoint.ts";
import { loadOrCreateSigningKey } from "./trail/signing-key.ts";
import { serveAuditVerify } from "./verify/verify-handler.ts";

// Every file this process creates (the park file of refused events and the audit file sink) is its owner's alone.
process.umask(0o077);

let config: AuditConfig;
try {
  config = parseAuditConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger({ service: "audit", level: config.logLevel });
let shipper: Shipper | undefined;
const subscriptions: Subscription[] = [];
let stopping = false;

function fail(message: string, error: unknown): never {
  logger.error(message, { error });
  process.exit(1);
}

const { sink, queryBackend } = createSinkFromConfig(config);
const parking = await openParkFile(config.parkFile, logger).catch((error: unknown) =>
  fail("cannot read the park file", error),
);
const signingKey = await loadOrCreateSigningKey(config.dataDir).catch((error: unknown) =>
  fail("cannot read or create the audit signing key", error),
);
// Printed so an operator can keep the key that verifies digests apart from this host (`secrets audit verify`).
logger.info("audit signing key", {
  publicKeyPath: signingKey.publicKeyPath,
  publicKey: signingKey.publicKeyPem,
});
const trail = createAuditTrail({
  checkpoint: fileChainCheckpoint(join(config.dataDir, "audit-chain.json")),
  signingKey: signingKey.privateKey,
  digestIntervalMs: config.digestIntervalMs,
  findLink: findLinkFromConfig(config),
});
logger.info("connecting to NATS", { namespace: config.busNamespace });
const bus = await connectBusFromConfig(config, "audit", logger).catch((error: unknown) =>
  fail("cannot connect to NATS", error),
);

async function stop(signal: string): Promise<void> {
  if (stopping) {
    logger.warn("second signal: exiting without waiting", { signal });
    process.exit(1);
  }
  stopping = true;
  logger.info("audit stopping", { signal });
  await Promise.allSettled(subscriptions.map((subscription) => subscription.unsubscribe()));
  await shipper?.stop();
  await bus.close();
  logger.info("audit stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));

shipper = createShipper({
  bus,
  sink,
  parking,
  logger,
  trail,
  options: {
    consumerName: config.consumerName,
    batchMax: config.batchMax,
    batchWaitMs: config.batchWaitMs,
    ackWaitMs: config.ackWaitMs,
    leaseTtlMs: config.leaseTtlMs,
    holder: newLeaseHolder(hostname()),
    retry: { initialDelayMs: config.retryBaseMs, maxDelayMs: config.retryMaxMs },
  },
});
subscriptions.push(serveAuditQueries(bus, { backend: queryBackend, logger }));
subscriptions.push(serveAuditStatus(bus, shipper));
subscriptions.push(
  serveAuditVerify(bus, {
    source: trailLinesFromConfig(config),
    publicKeyPem: signingKey.publicKeyPem,
    logger,
  }),
);
await bus.flush();
await shipper.start();

// A signal during start-up is handled by `stop`, which exits.
if (!stopping) {
  logger.info("audit ready", {
    namespace: bus.namespace,
    sink: sink.name,
    queries: queryBackend?.name ?? "none",
    consumer: config.consumerName,
    pid: process.pid,
  });
  setInterval(() => void shipper?.logSummary(), config.summaryIntervalMs);
}
