import { join } from "node:path";
import { ConfigError, configVariables } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { adminApiConfigSpec, parseAdminApiConfig } from "./config.ts";

describe("admin API configuration", () => {
  it("has safe defaults", () => {
    expect(parseAdminApiConfig({})).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
      vaultTimeoutMs: 5_000,
      authCacheMs: 5_000,
      cookieSecure: true,
      trustProxy: false,
      loginRatePerMinute: 10,
      authFailureRatePerMinute: 10,
      maxBodyBytes: 192 * 1024,
      oidcIssuer: undefined,
      publicOrigin: undefined,
    });
  });

  it("lists every problem, OIDC settings that only make sense together included", () => {
    try {
      parseAdminApiConfig({
        ADMIN_PORT: "http",
        ADMIN_OIDC_ISSUER: "https://id.example",
        ADMIN_COOKIE_SECURE: "maybe",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toContain("ADMIN_PORT must be an integer");
      expect(problems).toContain("ADMIN_COOKIE_SECURE must be true or false");
      expect(problems).toContain("ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE must be set together");
    }
  });

  it("accepts an OIDC issuer or JWKS over plain http on loopback only, and asymmetric algorithms only", () => {
    const oidc = (issuer: string, jwks?: string) => ({
      ADMIN_OIDC_ISSUER: issuer,
      ADMIN_OIDC_AUDIENCE: "secrets-admin",
      ...(jwks ? { ADMIN_OIDC_JWKS_URL: jwks } : {}),
    });
    expect(parseAdminApiConfig(oidc("http://127.0.0.1:8443")).oidcIssuer).toBe("http://127.0.0.1:8443");
    expect(parseAdminApiConfig(oidc("http://localhost:8443")).oidcAlgorithms).toBe("RS256,ES256,EdDSA");
    expect(() => parseAdminApiConfig(oidc("http://id.example"))).toThrow(
      /ADMIN_OIDC_ISSUER must be an https URL \(plain http only on loopback\); got "http:\/\/id.example"/,
    );
    expect(() => parseAdminApiConfig(oidc("https://id.example", "http://keys.example/jwks"))).toThrow(
      /ADMIN_OIDC_JWKS_URL must be an https URL/,
    );
    expect(() => parseAdminApiConfig({ ADMIN_OIDC_ALGORITHMS: "HS256" })).toThrow(/ADMIN_OIDC_ALGORITHMS/);
    expect(() => parseAdminApiConfig({ ADMIN_OIDC_ALGORITHMS: "ES256,none" })).toThrow(
      /ADMIN_OIDC_ALGORITHMS/,
    );
  });

  it("makes a plain-http OIDC issuer off loopback a start-up error of the process", () => {
    const run = Bun.spawnSync(["bun", join(import.meta.dirname, "main.ts")], {
      env: {
        PATH: process.env.PATH ?? "",
        ADMIN_OIDC_ISSUER: "http://id.example",
        ADMIN_OIDC_AUDIENCE: "secrets-admin",
      },
      timeout: 20_000,
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toContain("ADMIN_OIDC_ISSUER must be an https URL");
    expect(run.stdout.toString()).not.toContain("admin api listening");
  });

  it("names its variables, for checking deployment files", () => {
    expect(configVariables(adminApiConfigSpec)).toEqual(
      expect.arrayContaining([
        "ADMIN_PORT",
        "ADMIN_HOST",
        "ADMIN_VAULT_TIMEOUT_MS",
        "ADMIN_OIDC_ISSUER",
        "NATS_URL",
      ]),
    );
  });
});
