import { ConfigError, configVariables } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { parseVaultConfig, vaultConfigSpec } from "./config.ts";

describe("vault configuration", () => {
  it("has no OIDC settings unless ADMIN_OIDC_ISSUER is set", () => {
    const config = parseVaultConfig({});
    expect(config.oidc).toBeUndefined();
    expect(config).not.toHaveProperty("oidcIssuer");
    expect(config).toMatchObject({ dataDir: "./data", databasePoolSize: 10, secretVersionsKept: 10 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the admin API's ADMIN_OIDC_* variables into the verifier's settings", () => {
    const environment = {
      ADMIN_OIDC_ISSUER: "https://id.example/realms/ops",
      ADMIN_OIDC_AUDIENCE: "secrets-admin",
    };
    expect(parseVaultConfig(environment).oidc).toEqual({
      issuer: "https://id.example/realms/ops",
      audience: "secrets-admin",
      jwksUrl: undefined,
      adminScope: "admin",
      algorithms: ["RS256", "ES256", "EdDSA"],
    });
    expect(
      parseVaultConfig({
        ...environment,
        ADMIN_OIDC_JWKS_URL: "http://127.0.0.1:8443/jwks",
        ADMIN_OIDC_ADMIN_SCOPE: "secrets:admin",
        ADMIN_OIDC_ALGORITHMS: "ES256",
      }).oidc,
    ).toMatchObject({
      jwksUrl: "http://127.0.0.1:8443/jwks",
      adminScope: "secrets:admin",
      algorithms: ["ES256"],
    });
  });

  it("applies the admin API's checks, listed with every other problem", () => {
    try {
      parseVaultConfig({
        DATABASE_POOL_SIZE: "many",
        ADMIN_OIDC_ISSUER: "http://id.example",
        ADMIN_OIDC_ALGORITHMS: "HS256",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toContain("DATABASE_POOL_SIZE must be an integer");
      expect(problems).toContain("ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE must be set together");
      expect(problems).toContain(
        'ADMIN_OIDC_ISSUER must be an https URL (plain http only on loopback); got "http://id.example"',
      );
      expect(problems).toMatch(/ADMIN_OIDC_ALGORITHMS must match/);
    }
    expect(() => parseVaultConfig({ ADMIN_OIDC_JWKS_URL: "https://id.example/jwks" })).toThrow(
      "ADMIN_OIDC_JWKS_URL needs ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE",
    );
  });

  it("names the ADMIN_OIDC_* variables among its own, for checking deployment files", () => {
    expect(configVariables(vaultConfigSpec)).toEqual(
      expect.arrayContaining([
        "DATABASE_URL",
        "ADMIN_OIDC_ISSUER",
        "ADMIN_OIDC_AUDIENCE",
        "ADMIN_OIDC_JWKS_URL",
        "ADMIN_OIDC_ADMIN_SCOPE",
        "ADMIN_OIDC_ALGORITHMS",
      ]),
    );
  });
});
