/**
 * The client's options with their defaults, checked once when the client is created (every problem in
 * one SecretsConfigurationError).
 */
import { isIP } from "node:net";
import { checkServiceName, checkServiceVersion } from "@secrets/validation";
import { SecretsConfigurationError } from "./errors.ts";
import type { SecretsLogger } from "./logger.ts";

interface CommonOptions {
  /** Where the SDK reports what an admin must do; default: JSON lines on stdout/stderr. Never gets a value. */
  logger?: SecretsLogger;
}

/** Secrets from the gateway over gRPC (the default source). */
export interface GatewaySourceOptions extends CommonOptions {
  source?: "grpc";
  /** The name the service's token and access requests belong to: `^[a-z0-9][a-z0-9._-]{0,63}$`. */
  serviceName: string;
  /** Shown to the admin who approves the token. Default "". */
  serviceVersion?: string;
  /**
   * `host:port` of a gateway (or `dns:///host:port`). Default `localhost:50051`. Under Bun, TLS needs a host
   * name (or `tlsServerName`).
   */
  address?: string;
  /** PEM CA certificate that signed the gateway's (`<gateway data dir>/tls/ca.crt`). Unset: the system's CAs. */
  caFile?: string;
  /** The name to expect in the gateway's certificate instead of the address's host (`grpc.ssl_target_name_override`). */
  tlsServerName?: string;
  /** Plaintext gRPC, for a gateway run with `GRPC_INSECURE=true` on a trusted network. Default false. */
  insecure?: boolean;
  /** Where the service's token is kept (`<dataDir>/service-token`). Default `./data`: keep it on a persistent volume. */
  dataDir?: string;
  /** How long a value read is served from memory before it is fetched again. Default 60 000; 0: always fetch. */
  cacheTtlMs?: number;
  /** Deadline of each gRPC call. Default 5 000. */
  timeoutMs?: number;
  /**
   * When the gateway, vault or audit trail is down (SecretsUnavailableError), return the last value read
   * instead of failing, as long as it was read at most `maxStaleMs` ago. Default false.
   */
  serveStaleOnError?: boolean;
  /**
   * With `serveStaleOnError`: the oldest value (time since it was last read from the gateway) served during
   * an outage; past it the outage's error is thrown, so a value revoked or rotated during a long outage is
   * not used for ever. Default 3 600 000 (1 h).
   */
  maxStaleMs?: number;
  /**
   * When a watched secret changes (`watch`), fetch its new value into the cache before calling back, so a
   * `getSecret` right after returns it from memory. Each fetch is a GetSecret, audited. Default false: the
   * cached value is only dropped and the next `getSecret` fetches it.
   */
  autoRefresh?: boolean;
}

/** Secrets from environment variables, with the same keys, types and errors: for moving a service over. */
export interface EnvSourceOptions extends CommonOptions {
  source: "env";
  /** Default `process.env`, read at each call. */
  env?: Readonly<Record<string, string | undefined>>;
}

export type SecretsClientOptions = GatewaySourceOptions | EnvSourceOptions;

export interface ResolvedGatewayOptions {
  serviceName: string;
  serviceVersion: string;
  address: string;
  caFile: string | undefined;
  tlsServerName: string | undefined;
  insecure: boolean;
  dataDir: string;
  cacheTtlMs: number;
  timeoutMs: number;
  serveStaleOnError: boolean;
  maxStaleMs: number;
}

export const defaults = {
  address: "localhost:50051",
  dataDir: "./data",
  cacheTtlMs: 60_000,
  timeoutMs: 5_000,
  maxStaleMs: 3_600_000,
} as const;

function hostOf(target: string): string {
  const address = target.replace(/^dns:(\/\/\/)?/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1] ?? "";
  const colons = address.split(":").length - 1;
  return colons === 1 ? address.slice(0, address.indexOf(":")) : address;
}

/** Defaults applied and every option checked; throws one SecretsConfigurationError naming every problem. */
export function resolveGatewayOptions(options: GatewaySourceOptions): ResolvedGatewayOptions {
  const resolved: ResolvedGatewayOptions = {
    serviceName: options.serviceName,
    serviceVersion: options.serviceVersion ?? "",
    address: options.address ?? defaults.address,
    caFile: options.caFile || undefined,
    tlsServerName: options.tlsServerName || undefined,
    insecure: options.insecure ?? false,
    dataDir: options.dataDir ?? defaults.dataDir,
    cacheTtlMs: options.cacheTtlMs ?? defaults.cacheTtlMs,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    serveStaleOnError: options.serveStaleOnError ?? false,
    maxStaleMs: options.maxStaleMs ?? defaults.maxStaleMs,
  };
  const problems = [
    ...checkServiceName(resolved.serviceName ?? "", "serviceName").map((v) => `serviceName ${v.description}`),
    ...checkServiceVersion(resolved.serviceVersion, "serviceVersion").map(
      (v) => `serviceVersion ${v.description}`,
    ),
  ];
  if (!/^(dns:(\/\/\/)?)?(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/.test(resolved.address)) {
    problems.push(`address must be host:port or dns:///host:port (got "${resolved.address}")`);
  }
  if (!(resolved.timeoutMs > 0)) problems.push("timeoutMs must be a positive number of milliseconds");
  if (!(resolved.cacheTtlMs >= 0)) problems.push("cacheTtlMs must be 0 or more milliseconds");
  if (!(resolved.maxStaleMs >= 0)) problems.push("maxStaleMs must be 0 or more milliseconds");
  if (resolved.dataDir === "") problems.push("dataDir must not be empty");
  if (resolved.insecure && (resolved.caFile || resolved.tlsServerName)) {
    problems.push("insecure (plaintext) excludes caFile and tlsServerName");
  }
  if (
    !resolved.insecure &&
    !resolved.tlsServerName &&
    process.versions.bun &&
    isIP(hostOf(resolved.address))
  ) {
    problems.push(
      `Bun cannot open TLS to an IP address (${resolved.address}): use a host name (localhost:<port>) or set ` +
        'tlsServerName to a name in the gateway\'s certificate ("localhost" for the generated one)',
    );
  }
  if (problems.length > 0) {
    throw new SecretsConfigurationError(`Invalid secrets client options: ${problems.join("; ")}`, {
      serviceName: resolved.serviceName,
      reason: "INVALID_OPTIONS",
    });
  }
  return resolved;
}
