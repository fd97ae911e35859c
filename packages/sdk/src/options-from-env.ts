/**
 * Client options from environment variables, for a service's `main.ts`: the deployment decides where the
 * secrets come from (`SECRETS_SOURCE=env` keeps reading environment variables while a codebase moves over).
 */
import { SecretsConfigurationError } from "./errors.ts";
import type { GatewaySourceOptions, SecretsClientOptions } from "./options.ts";

/** Each variable read, with what it sets. */
export const optionVariables = {
  SECRETS_SOURCE: '"grpc" (default) or "env": read secrets from environment variables instead',
  SECRETS_SERVICE_NAME: "serviceName: the name the token and access requests belong to",
  SECRETS_SERVICE_VERSION: "serviceVersion",
  SECRETS_GATEWAY_ADDRESS: "address: host:port of a gateway (default localhost:50051)",
  SECRETS_CA_FILE: "caFile: the gateway's CA certificate (PEM)",
  SECRETS_TLS_SERVER_NAME: "tlsServerName: the name in the gateway's certificate",
  SECRETS_INSECURE: "insecure: true for plaintext gRPC",
  SECRETS_TOKEN_DIR: "dataDir: where the service token is kept (default ./data)",
  SECRETS_CACHE_TTL_MS: "cacheTtlMs",
  SECRETS_TIMEOUT_MS: "timeoutMs",
  SECRETS_SERVE_STALE_ON_ERROR: "serveStaleOnError: true to serve the last value during an outage",
  SECRETS_MAX_STALE_MS: "maxStaleMs: the oldest value served during an outage (default 3600000, 1 h)",
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Options from `SECRETS_*` variables (see `optionVariables`), over `base` (code defaults such as the
 * service name). Throws one SecretsConfigurationError naming every malformed variable.
 *
 * @example
 * const secrets = createSecretsClient(secretsSchema, secretsOptionsFromEnv(process.env, { serviceName: "orders" }));
 */
export function secretsOptionsFromEnv(
  env: Env,
  base: Partial<GatewaySourceOptions> = {},
): SecretsClientOptions {
  const problems: string[] = [];
  const text = (name: keyof typeof optionVariables) => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const flag = (name: keyof typeof optionVariables) => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    problems.push(`${name} must be true or false`);
    return undefined;
  };
  const number = (name: keyof typeof optionVariables) => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (/^\d+$/.test(value)) return Number(value);
    problems.push(`${name} must be a whole number of milliseconds`);
    return undefined;
  };
  const source = text("SECRETS_SOURCE") ?? base.source ?? "grpc";
  if (source !== "grpc" && source !== "env") problems.push('SECRETS_SOURCE must be "grpc" or "env"');
  const options: GatewaySourceOptions = { ...base, source: "grpc", serviceName: base.serviceName ?? "" };
  const set = <K extends keyof GatewaySourceOptions>(key: K, value: GatewaySourceOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set("serviceName", text("SECRETS_SERVICE_NAME"));
  set("serviceVersion", text("SECRETS_SERVICE_VERSION"));
  set("address", text("SECRETS_GATEWAY_ADDRESS"));
  set("caFile", text("SECRETS_CA_FILE"));
  set("tlsServerName", text("SECRETS_TLS_SERVER_NAME"));
  set("insecure", flag("SECRETS_INSECURE"));
  set("dataDir", text("SECRETS_TOKEN_DIR"));
  set("cacheTtlMs", number("SECRETS_CACHE_TTL_MS"));
  set("timeoutMs", number("SECRETS_TIMEOUT_MS"));
  set("serveStaleOnError", flag("SECRETS_SERVE_STALE_ON_ERROR"));
  set("maxStaleMs", number("SECRETS_MAX_STALE_MS"));
  if (problems.length > 0) {
    throw new SecretsConfigurationError(`Invalid secrets configuration: ${problems.join("; ")}`, {
      reason: "INVALID_OPTIONS",
    });
  }
  if (source === "env") return { source: "env", env, ...(base.logger ? { logger: base.logger } : {}) };
  return options;
}
