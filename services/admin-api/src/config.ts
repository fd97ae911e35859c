/**
 * The admin API's configuration: one spec with a description per variable, parsed once in `main.ts` and
 * frozen. `adminApiConfigSpec` is exported so deployment files can be checked against its variable names.
 */
import { join } from "node:path";
import { busConfigChecks, busConfigFields } from "@secrets/bus";
import { type ConfigOf, env, logLevelField, parseConfig } from "@secrets/config";
import { oidcConfigChecks, oidcConfigFields } from "@secrets/oidc";

export const adminApiConfigSpec = {
  ...busConfigFields,
  logLevel: logLevelField,
  host: env.string("ADMIN_HOST", "address the HTTP server listens on", { default: "0.0.0.0" }),
  port: env.int("ADMIN_PORT", "HTTP port (0: a free one, logged)", { default: 8080, min: 0, max: 65535 }),
  vaultTimeoutMs: env.int("ADMIN_VAULT_TIMEOUT_MS", "longest wait for the vault to answer a request", {
    default: 5_000,
    min: 50,
    max: 60_000,
  }),
  authCacheMs: env.int(
    "ADMIN_AUTH_CACHE_MS",
    "how long a successful admin authentication is remembered (0: ask the vault every time)",
    { default: 5_000, min: 0, max: 60_000 },
  ),
  authCacheMaxEntries: env.int("ADMIN_AUTH_CACHE_MAX_ENTRIES", "authentications remembered at most", {
    default: 1_000,
    min: 1,
    max: 100_000,
  }),
  loginRatePerMinute: env.int(
    "ADMIN_LOGIN_RATE_PER_MINUTE",
    "sign-ins (POST /session) per admin token: sessions one token may open per minute",
    { default: 10, min: 1 },
  ),
  authFailureRatePerMinute: env.int(
    "ADMIN_AUTH_FAILURE_RATE_PER_MINUTE",
    "credentials not known valid that one client address may present per minute (taken before the " +
      "vault is asked, given back when valid); past it they get 429. A credential that authenticated " +
      "on this replica spends nothing",
    { default: 10, min: 1 },
  ),
  credentialRefusalRatePerMinute: env.int(
    "ADMIN_CREDENTIAL_REFUSAL_RATE_PER_MINUTE",
    "refusals of one credential (a revoked token, an ended session) per minute, from any address",
    { default: 10, min: 1 },
  ),
  maxBodyBytes: env.int(
    "ADMIN_MAX_BODY_BYTES",
    "largest request body; the default fits a 64 KiB value even when JSON escaping doubles it",
    { default: 192 * 1024, min: 1024, max: 16 * 1024 * 1024 },
  ),
  publicOrigin: env.optionalUrl(
    "ADMIN_PUBLIC_ORIGIN",
    "the dashboard's origin (https://admin.example.com); cookie-authenticated changes must come from it. " +
      "Unset: the request's Host",
    { protocols: ["http", "https"] },
  ),
  cookieSecure: env.bool("ADMIN_COOKIE_SECURE", "mark the session cookie Secure (HTTPS only)", {
    default: true,
  }),
  trustProxy: env.bool(
    "ADMIN_TRUST_PROXY",
    "take the client address from the last X-Forwarded-For entry (only behind a proxy that sets it)",
    { default: false },
  ),
  webDir: env.string(
    "ADMIN_WEB_DIR",
    "the built dashboard served at / (`bun run web:build` writes it); missing: / says how to build it",
    { default: join(import.meta.dirname, "../../../web/dist") },
  ),
  ...oidcConfigFields,
};

export type AdminApiConfig = ConfigOf<typeof adminApiConfigSpec>;

/** Parses the environment; throws a ConfigError listing every problem, cross-field ones included. */
export function parseAdminApiConfig(environment: Record<string, string | undefined>): AdminApiConfig {
  return parseConfig(adminApiConfigSpec, environment, [...busConfigChecks, ...oidcConfigChecks]);
}
