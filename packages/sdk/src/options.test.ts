import { describe, expect, it } from "vitest";
import { SecretsConfigurationError } from "./errors.ts";
import { resolveGatewayOptions } from "./options.ts";
import { secretsOptionsFromEnv } from "./options-from-env.ts";

describe("resolveGatewayOptions", () => {
  it("applies the defaults", () => {
    expect(resolveGatewayOptions({ serviceName: "orders" })).toEqual({
      serviceName: "orders",
      serviceVersion: "",
      address: "localhost:50051",
      caFile: undefined,
      tlsServerName: undefined,
      insecure: false,
      dataDir: "./data",
      cacheTtlMs: 60_000,
      timeoutMs: 5_000,
      serveStaleOnError: false,
      maxStaleMs: 3_600_000,
    });
  });

  it("accepts host names, IPv6 and plaintext to an IP", () => {
    expect(resolveGatewayOptions({ serviceName: "a", address: "gateway.internal:443" }).address).toBe(
      "gateway.internal:443",
    );
    expect(
      resolveGatewayOptions({ serviceName: "a", address: "[::1]:50051", tlsServerName: "localhost" }).address,
    ).toBe("[::1]:50051");
    expect(
      resolveGatewayOptions({ serviceName: "a", address: "10.0.0.5:50051", insecure: true }).insecure,
    ).toBe(true);
    expect(resolveGatewayOptions({ serviceName: "a", address: "dns:///gateway:50051" }).address).toBe(
      "dns:///gateway:50051",
    );
    expect(() => resolveGatewayOptions({ serviceName: "a", address: "dns:///10.0.0.5:50051" })).toThrowError(
      /tlsServerName/,
    );
  });

  it("lists every problem at once", () => {
    const error = (() => {
      try {
        resolveGatewayOptions({
          serviceName: "",
          address: "http://gateway",
          insecure: true,
          caFile: "/ca.crt",
          cacheTtlMs: -1,
        });
      } catch (e) {
        return e as SecretsConfigurationError;
      }
    })();
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    expect(error?.message).toMatch(
      /serviceName is required.*address must be host:port.*cacheTtlMs.*insecure/,
    );
  });
});

describe("secretsOptionsFromEnv", () => {
  it("reads SECRETS_* over the code's defaults", () => {
    expect(
      secretsOptionsFromEnv(
        {
          SECRETS_SERVICE_NAME: "orders",
          SECRETS_GATEWAY_ADDRESS: "gateway:50051",
          SECRETS_CA_FILE: "/etc/secrets/ca.crt",
          SECRETS_TLS_SERVER_NAME: "gateway.internal",
          SECRETS_TOKEN_DIR: "/var/lib/orders",
          SECRETS_CACHE_TTL_MS: "0",
          SECRETS_TIMEOUT_MS: "2000",
          SECRETS_SERVE_STALE_ON_ERROR: "true",
          SECRETS_MAX_STALE_MS: "600000",
          SECRETS_INSECURE: "",
        },
        { serviceName: "default-name", serviceVersion: "1.2.3" },
      ),
    ).toEqual({
      source: "grpc",
      serviceName: "orders",
      serviceVersion: "1.2.3",
      address: "gateway:50051",
      caFile: "/etc/secrets/ca.crt",
      tlsServerName: "gateway.internal",
      dataDir: "/var/lib/orders",
      cacheTtlMs: 0,
      timeoutMs: 2000,
      serveStaleOnError: true,
      maxStaleMs: 600_000,
    });
  });

  it("switches to the environment with SECRETS_SOURCE=env", () => {
    const env = { SECRETS_SOURCE: "env", DATABASE_URL: "x" };
    expect(secretsOptionsFromEnv(env, { serviceName: "orders" })).toEqual({ source: "env", env });
  });

  it("names every malformed variable", () => {
    expect(() =>
      secretsOptionsFromEnv({ SECRETS_SOURCE: "vault", SECRETS_INSECURE: "maybe", SECRETS_TIMEOUT_MS: "5s" }),
    ).toThrowError(
      /SECRETS_SOURCE.*SECRETS_INSECURE must be true or false; SECRETS_TIMEOUT_MS must be a whole number/,
    );
  });
});
