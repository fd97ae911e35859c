/**
 * The ADMIN_OIDC_* variables, read the same way by every process that verifies admins' JWTs (the admin
 * API and the vault): spread `oidcConfigFields` into the spec, parse with `oidcConfigChecks`, and turn the
 * result into the verifier's settings with `oidcSettingsFromConfig`.
 */
import { type ConfigCheck, type ConfigOf, env } from "@secrets/config";
import { isSafeIdentityProviderUrl } from "./identity-provider-fetch.ts";
import type { OidcSettings } from "./verifier.ts";

/** Asymmetric JWS algorithms only: an HMAC secret or `none` must never verify an admin. */
const jwtAlgorithmList =
  /^(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA|Ed25519)(,(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA|Ed25519))*$/;

export const oidcConfigFields = {
  oidcIssuer: env.optionalUrl(
    "ADMIN_OIDC_ISSUER",
    "OIDC issuer whose JWTs authenticate admins (SSO); https, or http on loopback only",
    { protocols: ["http", "https"] },
  ),
  oidcAudience: env.optionalString("ADMIN_OIDC_AUDIENCE", "the audience admin JWTs must carry"),
  oidcJwksUrl: env.optionalUrl(
    "ADMIN_OIDC_JWKS_URL",
    "the issuer's JWKS (https, or http on loopback only); unset: discovered from " +
      "<issuer>/.well-known/openid-configuration",
    { protocols: ["http", "https"] },
  ),
  oidcAdminScope: env.string("ADMIN_OIDC_ADMIN_SCOPE", "the scope an admin JWT must carry", {
    default: "admin",
    pattern: /^\S+$/,
  }),
  oidcAlgorithms: env.string(
    "ADMIN_OIDC_ALGORITHMS",
    "comma-separated JWT signing algorithms accepted from the issuer; any other `alg` is refused",
    { default: "RS256,ES256,EdDSA", pattern: jwtAlgorithmList },
  ),
};

/** The ADMIN_OIDC_* variables as parsed, before they become `OidcSettings`. */
export type OidcConfig = ConfigOf<typeof oidcConfigFields>;

const set = (environment: Record<string, string | undefined>, name: string) => Boolean(environment[name]);

/** The rules over the ADMIN_OIDC_* variables together; parse `oidcConfigFields` with them. */
export const oidcConfigChecks: readonly ConfigCheck[] = [
  (environment) =>
    set(environment, "ADMIN_OIDC_ISSUER") === set(environment, "ADMIN_OIDC_AUDIENCE")
      ? []
      : ["ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE must be set together"],
  (environment) =>
    set(environment, "ADMIN_OIDC_JWKS_URL") && !set(environment, "ADMIN_OIDC_ISSUER")
      ? ["ADMIN_OIDC_JWKS_URL needs ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE"]
      : [],
  // Keys fetched over plain http could be swapped by anyone on the path, and with them every admin JWT.
  (environment) =>
    (["ADMIN_OIDC_ISSUER", "ADMIN_OIDC_JWKS_URL"] as const).flatMap((name) => {
      const url = URL.parse(environment[name] ?? "");
      // Not a URL, or neither http nor https: the field itself says so.
      if (!url || !["http:", "https:"].includes(url.protocol) || isSafeIdentityProviderUrl(url.href))
        return [];
      return [`${name} must be an https URL (plain http only on loopback); got "${url.origin}"`];
    }),
];

/** The verifier's settings, or undefined when SSO is not configured (ADMIN_OIDC_ISSUER unset). */
export function oidcSettingsFromConfig(config: OidcConfig): OidcSettings | undefined {
  if (!config.oidcIssuer || !config.oidcAudience) return undefined;
  return Object.freeze({
    issuer: config.oidcIssuer,
    audience: config.oidcAudience,
    jwksUrl: config.oidcJwksUrl,
    adminScope: config.oidcAdminScope,
    algorithms: Object.freeze(config.oidcAlgorithms.split(",")),
  });
}
