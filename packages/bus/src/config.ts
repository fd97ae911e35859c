import { type ConfigCheck, ConfigError, env } from "@secrets/config";
import type { Logger } from "@secrets/logger";
import type { Bus } from "./bus.ts";
import { defaultNamespace, namespacePattern } from "./namespace.ts";
import { connectNatsBus, type NatsTlsFiles } from "./nats-bus.ts";

/** The environment variables every bus-connected process reads. */
export const busConfigFields = {
  natsUrl: env.urlList("NATS_URL", "NATS server URL(s), comma-separated for a cluster", {
    default: "nats://127.0.0.1:4222",
    protocols: ["nats", "tls", "ws", "wss"],
  }),
  auditStreamReplicas: env.int(
    "AUDIT_STREAM_REPLICAS",
    "copies the NATS cluster keeps of the audit stream and of every consumer and lease of this deployment (1, 3 or 5; more than 1 needs a JetStream cluster of at least that many nodes)",
    { default: 1, min: 1, max: 5 },
  ),
  natsUser: env.optionalString("NATS_USER", "NATS user name, when the server requires one"),
  natsPassword: env.optionalString("NATS_PASSWORD", "NATS password for NATS_USER"),
  natsCredsFile: env.optionalString("NATS_CREDS_FILE", "path to a NATS .creds file (JWT and nkey seed)"),
  natsTlsCaFile: env.optionalFile(
    "NATS_TLS_CA_FILE",
    "PEM file of the CA that signed the NATS server's certificate; set, the connection must be TLS and verified",
  ),
  natsTlsCertFile: env.optionalFile(
    "NATS_TLS_CERT_FILE",
    "PEM client certificate, for a NATS server that verifies clients (with NATS_TLS_KEY_FILE)",
  ),
  natsTlsKeyFile: env.optionalFile("NATS_TLS_KEY_FILE", "PEM private key of NATS_TLS_CERT_FILE"),
  natsInboxPrefix: env.string(
    "NATS_INBOX_PREFIX",
    "prefix of this process's reply subjects; deploy/nats.conf gives each service its own (_INBOX_<service>)",
    { default: "_INBOX", pattern: /^_INBOX[A-Za-z0-9_-]*$/ },
  ),
  busNamespace: env.string(
    "BUS_NAMESPACE",
    "prefix of every subject and stream, so deployments can share one NATS server",
    { default: defaultNamespace, pattern: namespacePattern },
  ),
};

export interface BusConfig {
  natsUrl: string;
  auditStreamReplicas: number;
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsCredsFile: string | undefined;
  natsTlsCaFile: string | undefined;
  natsTlsCertFile: string | undefined;
  natsTlsKeyFile: string | undefined;
  natsInboxPrefix: string;
  busNamespace: string;
}

const tlsPairProblem = "NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together";
const tlsCaProblem =
  "NATS_TLS_CERT_FILE needs NATS_TLS_CA_FILE: the CA the NATS server's certificate is checked against";

/** The rules over the bus's variables together; every service parses its configuration with them. */
export const busConfigChecks: readonly ConfigCheck[] = [
  (environment) => {
    const replicas = environment.AUDIT_STREAM_REPLICAS ?? "";
    return replicas === "" || ["1", "3", "5"].includes(replicas)
      ? []
      : [
          "AUDIT_STREAM_REPLICAS must be 1, 3 or 5: JetStream keeps a quorum, so an even count adds no safety",
        ];
  },
  (environment) => {
    const set = (name: string) => (environment[name] ?? "") !== "";
    if (set("NATS_TLS_CERT_FILE") !== set("NATS_TLS_KEY_FILE")) return [tlsPairProblem];
    if (set("NATS_TLS_CERT_FILE") && !set("NATS_TLS_CA_FILE")) return [tlsCaProblem];
    return [];
  },
];

/**
 * The TLS settings the configuration asks for, or undefined for a plaintext connection. Throws a
 * ConfigError when a client certificate comes without its key (or the reverse), or without a CA.
 */
export function natsTlsFromConfig(config: BusConfig): NatsTlsFiles | undefined {
  const { natsTlsCaFile: caFile, natsTlsCertFile: certFile, natsTlsKeyFile: keyFile } = config;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError([tlsPairProblem]);
  if (caFile === undefined) {
    if (certFile === undefined) return undefined;
    throw new ConfigError([tlsCaProblem]);
  }
  return {
    caFile,
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
  };
}

/** Connects to NATS as `name` with the process's configuration. */
export function connectBusFromConfig(config: BusConfig, name: string, logger: Logger): Promise<Bus> {
  const tls = natsTlsFromConfig(config);
  return connectNatsBus({
    ...(tls === undefined ? {} : { tls }),
    url: config.natsUrl,
    replicas: config.auditStreamReplicas,
    namespace: config.busNamespace,
    name,
    logger,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser }),
    ...(config.natsPassword === undefined ? {} : { password: config.natsPassword }),
    ...(config.natsCredsFile === undefined ? {} : { credsFile: config.natsCredsFile }),
    inboxPrefix: config.natsInboxPrefix,
  });
}

/**
 * For container healthchecks: connects as `name`, runs `check` and reports whether it succeeded within
 * `timeoutMs` (a NATS server that is down counts as failure, not as an endless wait).
 */
export async function probeBus(
  config: BusConfig,
  name: string,
  check: (bus: Bus) => Promise<unknown>,
  timeoutMs = 5_000,
): Promise<boolean> {
  const { silentLogger } = await import("@secrets/logger");
  const attempt = (async () => {
    const bus = await connectBusFromConfig(config, name, silentLogger);
    try {
      await check(bus);
      return true;
    } finally {
      await bus.close();
    }
  })();
  const timeout = Bun.sleep(timeoutMs).then(() => false);
  return Promise.race([attempt.catch(() => false), timeout]);
}
