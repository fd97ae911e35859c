import { ConfigError, configVariables } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { gatewayConfigSpec, parseGatewayConfig } from "./config.ts";

function problemsOf(environment: Record<string, string>): readonly string[] {
  try {
    parseGatewayConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("gateway configuration", () => {
  it("has working defaults and is frozen", () => {
    const config = parseGatewayConfig({});
    expect(config).toMatchObject({
      grpcHost: "0.0.0.0",
      grpcPort: 50051,
      grpcInsecure: false,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      tlsSans: [],
      vaultTimeoutMs: 5_000,
      rateLimitRegisterPerMinute: 30,
      rateLimitAuthFailuresPerMinute: 20,
      watchMaxStreams: 10_000,
      watchMaxStreamsPerPeer: 100,
      keepaliveTimeMs: 30_000,
      keepaliveTimeoutMs: 10_000,
      dataDir: "./data",
      natsUrl: "nats://127.0.0.1:4222",
      busNamespace: "secrets",
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads every variable it documents", () => {
    expect(configVariables(gatewayConfigSpec)).toEqual(
      expect.arrayContaining([
        "GRPC_HOST",
        "GRPC_PORT",
        "GRPC_INSECURE",
        "GRPC_TLS_CERT",
        "GRPC_TLS_KEY",
        "GRPC_TLS_SANS",
        "GATEWAY_VAULT_TIMEOUT_MS",
        "RATE_LIMIT_REGISTER_PER_MINUTE",
        "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE",
        "GATEWAY_SHUTDOWN_GRACE_MS",
        "GATEWAY_WATCH_MAX_STREAMS",
        "GATEWAY_WATCH_MAX_STREAMS_PER_PEER",
        "GRPC_KEEPALIVE_TIME_MS",
        "GRPC_KEEPALIVE_TIMEOUT_MS",
        "SECRETS_DATA_DIR",
        "LOG_LEVEL",
        "NATS_URL",
        "BUS_NAMESPACE",
      ]),
    );
  });

  it("parses GRPC_TLS_SANS as a list of DNS names and IP addresses", () => {
    const config = parseGatewayConfig({ GRPC_TLS_SANS: " gw.internal, 10.0.0.7 ,,*.svc.local,::1" });
    expect(config.tlsSans).toEqual(["gw.internal", "10.0.0.7", "*.svc.local", "::1"]);
    expect(problemsOf({ GRPC_TLS_SANS: "ok, under_score!, has space" })).toEqual([
      "GRPC_TLS_SANS holds names that are neither a DNS name nor an IP address: under_score!, has space",
    ]);
  });

  it("lists single-variable and cross-variable problems together", () => {
    const problems = problemsOf({
      GRPC_PORT: "70000",
      GRPC_TLS_KEY: "/k.pem",
      RATE_LIMIT_REGISTER_PER_MINUTE: "0",
    });
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/GRPC_PORT must be at most 65535/);
    expect(problems.join("\n")).toMatch(/RATE_LIMIT_REGISTER_PER_MINUTE must be at least 1/);
    expect(problems.join("\n")).toMatch(/GRPC_TLS_CERT and GRPC_TLS_KEY must be set together/);
  });

  it("parses the transport bounds, with safe defaults and limits", () => {
    expect(parseGatewayConfig({})).toMatchObject({
      grpcMaxConcurrentStreams: 100,
      grpcMaxConnections: 10_000,
      grpcMaxConnectionsPerAddress: 100,
      grpcHandshakeTimeoutMs: 10_000,
      grpcMaxConnectionIdleMs: 300_000,
      grpcMaxConnectionAgeMs: 3_600_000,
      grpcMaxConnectionAgeGraceMs: 60_000,
      grpcRequestMessageTimeoutMs: 10_000,
      grpcMaxMetadataBytes: 8_192,
    });
    const config = parseGatewayConfig({
      GRPC_MAX_CONCURRENT_STREAMS: "50",
      GRPC_MAX_CONNECTIONS_PER_ADDRESS: "5",
      GRPC_HANDSHAKE_TIMEOUT_MS: "500",
      GRPC_REQUEST_MESSAGE_TIMEOUT_MS: "2000",
      GRPC_MAX_METADATA_BYTES: "16384",
    });
    expect(config).toMatchObject({
      grpcMaxConcurrentStreams: 50,
      grpcMaxConnectionsPerAddress: 5,
      grpcHandshakeTimeoutMs: 500,
      grpcRequestMessageTimeoutMs: 2_000,
      grpcMaxMetadataBytes: 16_384,
    });
    const problems = problemsOf({
      GRPC_MAX_CONCURRENT_STREAMS: "0",
      GRPC_MAX_METADATA_BYTES: "1048576",
      GRPC_HANDSHAKE_TIMEOUT_MS: "soon",
    }).join("\n");
    expect(problems).toMatch(/GRPC_MAX_CONCURRENT_STREAMS must be at least 1/);
    expect(problems).toMatch(/GRPC_MAX_METADATA_BYTES must be at most 32768/);
    expect(problems).toMatch(/GRPC_HANDSHAKE_TIMEOUT_MS/);
  });

  it("accepts a certificate and key given together", () => {
    const config = parseGatewayConfig({ GRPC_TLS_CERT: "/c.pem", GRPC_TLS_KEY: "/k.pem" });
    expect(config).toMatchObject({ tlsCertFile: "/c.pem", tlsKeyFile: "/k.pem" });
  });
});
