import { env } from "@secrets/config";
import type { Logger } from "@secrets/logger";
import type { Bus } from "./bus.ts";
import { defaultNamespace, namespacePattern } from "./namespace.ts";
import { connectNatsBus } from "./nats-bus.ts";

/** The environment variables every bus-connected process reads. */
export const busConfigFields = {
  natsUrl: env.url("NATS_URL", "NATS server URL(s), comma-separated for a cluster", {
    default: "nats://127.0.0.1:4222",
    protocols: ["nats", "tls", "ws", "wss"],
  }),
  natsUser: env.optionalString("NATS_USER", "NATS user name, when the server requires one"),
  natsPassword: env.optionalString("NATS_PASSWORD", "NATS password for NATS_USER"),
  natsCredsFile: env.optionalString("NATS_CREDS_FILE", "path to a NATS .creds file (JWT and nkey seed)"),
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
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsCredsFile: string | undefined;
  natsInboxPrefix: string;
  busNamespace: string;
}

/** Connects to NATS as `name` with the process's configuration. */
export function connectBusFromConfig(config: BusConfig, name: string, logger: Logger): Promise<Bus> {
  return connectNatsBus({
    url: config.natsUrl,
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
