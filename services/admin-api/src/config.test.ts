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
