import { ConfigError, configVariables, parseConfig } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { oidcConfigChecks, oidcConfigFields, oidcSettingsFromConfig } from "./config.ts";

type Env = Record<string, string | undefined>;
const parse = (environment: Env) => parseConfig(oidcConfigFields, environment, oidcConfigChecks);
const problemsOf = (environment: Env): string[] => {
  try {
    parse(environment);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};

describe("the ADMIN_OIDC_* settings", () => {
  it("names its variables", () => {
    expect(configVariables(oidcConfigFields)).toEqual([
      "ADMIN_OIDC_ISSUER",
      "ADMIN_OIDC_AUDIENCE",
      "ADMIN_OIDC_JWKS_URL",
      "ADMIN_OIDC_ADMIN_SCOPE",
      "ADMIN_OIDC_ALGORITHMS",
    ]);
  });

  it("is off by default: no settings without ADMIN_OIDC_ISSUER", () => {
    const config = parse({});
    expect(config).toEqual({
      oidcIssuer: undefined,
      oidcAudience: undefined,
      oidcJwksUrl: undefined,
      oidcAdminScope: "admin",
      oidcAlgorithms: "RS256,ES256,EdDSA",
    });
    expect(oidcSettingsFromConfig(config)).toBeUndefined();
  });

  it("gives the verifier's settings, algorithms as a list", () => {
    const settings = oidcSettingsFromConfig(
      parse({
        ADMIN_OIDC_ISSUER: "https://id.example",
        ADMIN_OIDC_AUDIENCE: "secrets-admin",
        ADMIN_OIDC_JWKS_URL: "https://id.example/keys",
        ADMIN_OIDC_ADMIN_SCOPE: "secrets:admin",
        ADMIN_OIDC_ALGORITHMS: "ES256,PS256",
      }),
    );
    expect(settings).toEqual({
      issuer: "https://id.example",
      audience: "secrets-admin",
      jwksUrl: "https://id.example/keys",
      adminScope: "secrets:admin",
      algorithms: ["ES256", "PS256"],
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it("wants the issuer and the audience together, and a JWKS URL only with them", () => {
    expect(problemsOf({ ADMIN_OIDC_ISSUER: "https://id.example" })).toEqual([
      "ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE must be set together",
    ]);
    expect(problemsOf({ ADMIN_OIDC_AUDIENCE: "secrets-admin", ADMIN_OIDC_ISSUER: "" })).toEqual([
      "ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE must be set together",
    ]);
    expect(problemsOf({ ADMIN_OIDC_JWKS_URL: "https://id.example/keys" })).toEqual([
      "ADMIN_OIDC_JWKS_URL needs ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE",
    ]);
  });

  it("accepts plain http on loopback only, for the issuer and the JWKS", () => {
    const oidc = (issuer: string, jwks?: string): Env => ({
      ADMIN_OIDC_ISSUER: issuer,
      ADMIN_OIDC_AUDIENCE: "secrets-admin",
      ADMIN_OIDC_JWKS_URL: jwks,
    });
    expect(problemsOf(oidc("http://127.0.0.1:8443", "http://localhost:8443/jwks"))).toEqual([]);
    expect(problemsOf(oidc("http://id.example/realms/a", "http://keys.example:8080/jwks"))).toEqual([
      'ADMIN_OIDC_ISSUER must be an https URL (plain http only on loopback); got "http://id.example"',
      'ADMIN_OIDC_JWKS_URL must be an https URL (plain http only on loopback); got "http://keys.example:8080"',
    ]);
    // A URL of another scheme, or no URL at all, is the field's problem, reported once.
    expect(problemsOf(oidc("ftp://id.example"))).toEqual(["ADMIN_OIDC_ISSUER must use one of: http, https"]);
    expect(problemsOf(oidc("id.example"))).toEqual(["ADMIN_OIDC_ISSUER must be a URL"]);
  });

  it("accepts asymmetric algorithms only, and a scope without spaces", () => {
    expect(problemsOf({ ADMIN_OIDC_ALGORITHMS: "ES256,EdDSA,Ed25519,RS512" })).toEqual([]);
    for (const algorithms of ["HS256", "ES256,none", "ES256,", "es256"]) {
      expect(problemsOf({ ADMIN_OIDC_ALGORITHMS: algorithms })).toEqual([
        expect.stringMatching(/^ADMIN_OIDC_ALGORITHMS must match/),
      ]);
    }
    expect(problemsOf({ ADMIN_OIDC_ADMIN_SCOPE: "secrets admin" })).toEqual([
      expect.stringMatching(/^ADMIN_OIDC_ADMIN_SCOPE must match/),
    ]);
  });
});
