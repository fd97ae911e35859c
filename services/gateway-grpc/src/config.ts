/**
 * The gateway's configuration: one spec with a description per variable, parsed once in `main.ts` and
 * frozen. `gatewayConfigSpec` is exported so deployment files can be checked against its variable names.
 */
import { isIP } from "node:net";
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
import { trustedProxyProblem } from "./client-address.ts";

/** A DNS name (optionally a leading wildcard label) as it may appear in a certificate's SAN. */
const dnsNamePattern =
  /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** `GRPC_TLS_SANS`: extra names for the generated server certificate, comma-separated. */
const tlsSansField: ConfigField<readonly string[]> = {
  name: "GRPC_TLS_SANS",
  description: "extra DNS names or IP addresses for the generated server certificate, comma-separated",
  fallback: { value: [] },
  parse(raw) {
    const names = raw
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    const bad = names.filter((name) => isIP(name) === 0 && !dnsNamePattern.test(name));
    return bad.length > 0
      ? { ok: false, problem: `holds names that are neither a DNS name nor an IP address: ${bad.join(", ")}` }
      : { ok: true, value: Object.freeze(names) };
  },
};

/** `GATEWAY_TRUSTED_PROXIES`: proxies whose `x-forwarded-for` names the client, comma-separated. */
const trustedProxiesField: ConfigField<readonly string[]> = {
  name: "GATEWAY_TRUSTED_PROXIES",
  description:
    "addresses or CIDR ranges of L7 proxies whose x-forwarded-for names the real client, comma-separated; unset trusts none",
  fallback: { value: [] },
  parse(raw) {
    const entries = raw
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const problems = entries.flatMap((entry) => trustedProxyProblem(entry) ?? []);
    return problems.length > 0
      ? { ok: false, problem: problems.join("; ") }
      : { ok: true, value: Object.freeze(entries) };
  },
};

export const gatewayConfigSpec = {
  ...busConfigFields,
  logLevel: logLevelField,
  dataDir: dataDirField,
  grpcHost: env.string("GRPC_HOST", "address the gRPC server listens on", { default: "0.0.0.0" }),
  grpcPort: env.int("GRPC_PORT", "port the gRPC server listens on (0 picks a free one)", {
    default: 50051,
    min: 0,
    max: 65535,
  }),
  grpcInsecure: env.bool("GRPC_INSECURE", "serve plaintext gRPC without TLS (development only)", {
    default: false,
  }),
  tlsCertFile: env.optionalString("GRPC_TLS_CERT", "PEM server certificate chain; unset: generated"),
  tlsKeyFile: env.optionalString("GRPC_TLS_KEY", "PEM private key for GRPC_TLS_CERT"),
  tlsSans: tlsSansField,
  vaultTimeoutMs: env.int("GATEWAY_VAULT_TIMEOUT_MS", "longest wait for the vault's reply, in ms", {
    default: 5_000,
    min: 100,
    max: 120_000,
  }),
  rateLimitRegisterPerMinute: env.int(
    "RATE_LIMIT_REGISTER_PER_MINUTE",
    "RegisterToken calls allowed per peer address per minute",
    { default: 30, min: 1, max: 1_000_000 },
  ),
  rateLimitAuthFailuresPerMinute: env.int(
    "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE",
    "calls with tokens that are not approved allowed per client address per minute, beyond which such tokens are refused there (approved tokens are never refused)",
    { default: 20, min: 1, max: 1_000_000 },
  ),
  rateLimitTokenRefusalsPerMinute: env.int(
    "RATE_LIMIT_TOKEN_REFUSALS_PER_MINUTE",
    "calls per minute that one token may have refused by the vault (unknown, pending, denied, revoked) before the gateway refuses it without asking",
    { default: 10, min: 1, max: 1_000_000 },
  ),
  trustedProxies: trustedProxiesField,
  proxyProtocol: env.bool(
    "GATEWAY_PROXY_PROTOCOL",
    "connections from GATEWAY_TRUSTED_PROXIES start with a PROXY protocol header (v1 or v2) naming the client, as the shipped nginx balancer sends",
    { default: false },
  ),
  watchMaxStreams: env.int(
    "GATEWAY_WATCH_MAX_STREAMS",
    "WatchSecrets streams open at once across all peers; more are refused (RESOURCE_EXHAUSTED)",
    { default: 10_000, min: 1, max: 1_000_000 },
  ),
  watchMaxStreamsPerPeer: env.int(
    "GATEWAY_WATCH_MAX_STREAMS_PER_PEER",
    "WatchSecrets streams open at once per peer address (behind a load balancer the peer is the balancer)",
    { default: 100, min: 1, max: 1_000_000 },
  ),
  keepaliveTimeMs: env.int(
    "GRPC_KEEPALIVE_TIME_MS",
    "interval of the HTTP/2 pings that keep idle streams alive through proxies, in ms",
    { default: 30_000, min: 1_000, max: 3_600_000 },
  ),
  keepaliveTimeoutMs: env.int(
    "GRPC_KEEPALIVE_TIMEOUT_MS",
    "how long a ping may go unanswered before the connection is closed, in ms",
    { default: 10_000, min: 1_000, max: 600_000 },
  ),
  shutdownGraceMs: env.int(
    "GATEWAY_SHUTDOWN_GRACE_MS",
    "how long in-flight calls may finish after SIGTERM, in ms",
    { default: 10_000, min: 0, max: 300_000 },
  ),
  // Transport bounds (see transport-limits.ts): what a client may hold before it has authenticated.
  grpcMaxConcurrentStreams: env.int(
    "GRPC_MAX_CONCURRENT_STREAMS",
    "streams one connection may have open at once; more are refused (HTTP/2 REFUSED_STREAM)",
    { default: 100, min: 1, max: 10_000 },
  ),
  grpcMaxConnections: env.int(
    "GRPC_MAX_CONNECTIONS",
    "connections open at once from all clients together; more are closed on accept",
    { default: 10_000, min: 1, max: 1_000_000 },
  ),
  grpcMaxConnectionsPerAddress: env.int(
    "GRPC_MAX_CONNECTIONS_PER_ADDRESS",
    "connections open at once from one client address (behind a load balancer, the balancer); more are closed on accept",
    { default: 100, min: 1, max: 1_000_000 },
  ),
  grpcHandshakeTimeoutMs: env.int(
    "GRPC_HANDSHAKE_TIMEOUT_MS",
    "time a new connection has to finish TLS and send the HTTP/2 preface before it is closed, in ms",
    { default: 10_000, min: 100, max: 120_000 },
  ),
  grpcMaxConnectionIdleMs: env.int(
    "GRPC_MAX_CONNECTION_IDLE_MS",
    "a connection with no call open for this long is closed (GOAWAY), in ms",
    { default: 300_000, min: 1_000, max: 86_400_000 },
  ),
  grpcMaxConnectionAgeMs: env.int(
    "GRPC_MAX_CONNECTION_AGE_MS",
    "a connection is asked to go away (GOAWAY) after this long and clients reconnect, in ms",
    { default: 3_600_000, min: 10_000, max: 604_800_000 },
  ),
  grpcMaxConnectionAgeGraceMs: env.int(
    "GRPC_MAX_CONNECTION_AGE_GRACE_MS",
    "how long calls still open may go on after GRPC_MAX_CONNECTION_AGE_MS before the connection is cut, in ms",
    { default: 60_000, min: 1_000, max: 86_400_000 },
  ),
  grpcRequestMessageTimeoutMs: env.int(
    "GRPC_REQUEST_MESSAGE_TIMEOUT_MS",
    "a call whose request message has not arrived this long after its headers is ended (DEADLINE_EXCEEDED), in ms",
    { default: 10_000, min: 100, max: 300_000 },
  ),
  grpcMaxMetadataBytes: env.int(
    "GRPC_MAX_METADATA_BYTES",
    "largest request header list accepted (names + values + 32 per entry); larger calls get RESOURCE_EXHAUSTED",
    { default: 8_192, min: 1_024, max: 32_768 },
  ),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

/** Problems that involve several variables together, read from the raw environment. */
function crossFieldProblems(environment: Record<string, string | undefined>): string[] {
  const set = (name: string) => (environment[name] ?? "") !== "";
  const problems: string[] = [];
  if (/^(true|1|yes)$/i.test(environment.GATEWAY_PROXY_PROTOCOL ?? "") && !set("GATEWAY_TRUSTED_PROXIES")) {
    problems.push(
      "GATEWAY_PROXY_PROTOCOL needs GATEWAY_TRUSTED_PROXIES: the addresses of the balancers that send it",
    );
  }
  if (set("GRPC_TLS_CERT") !== set("GRPC_TLS_KEY")) {
    problems.push("GRPC_TLS_CERT and GRPC_TLS_KEY must be set together (or both unset to generate them)");
  }
  return problems;
}

/** Parses and freezes the configuration; throws a ConfigError listing every problem. */
export function parseGatewayConfig(environment: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = [];
  let config: GatewayConfig | undefined;
  try {
    config = parseConfig(gatewayConfigSpec, environment, busConfigChecks);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  problems.push(...crossFieldProblems(environment));
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return config;
}
