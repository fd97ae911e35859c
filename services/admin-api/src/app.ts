/**
 * `createApp(deps)` wires the admin API without listening: `main.ts` listens, tests call `app.handle`.
 * Everything reaches the vault over the bus only.
 */
import { adminOperations, type Bus, createThrottleReport } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { oidcSettingsFromConfig } from "@secrets/oidc";
import { Elysia } from "elysia";
import { accessRequestsController } from "./access-requests/index.ts";
import { createAccessRequestsService } from "./access-requests/service.ts";
import { auditController } from "./audit/index.ts";
import { createAuditService } from "./audit/service.ts";
import { createAdminBudgets } from "./auth/admin-budgets.ts";
import { AuthCache } from "./auth/auth-cache.ts";
import { createAuthenticator } from "./auth/authenticator.ts";
import { adminAuth } from "./auth/index.ts";
import { createOidcVerifier } from "./auth/oidc.ts";
import type { Principal } from "./auth/principal.ts";
import type { AdminApiConfig } from "./config.ts";
import { openApiDocs } from "./docs/openapi.ts";
import { healthController } from "./health/index.ts";
import { jsonBodyParsing } from "./http/json-body.ts";
import { requestPipeline } from "./http/pipeline.ts";
import { keysController } from "./keys/index.ts";
import { createKeysService } from "./keys/service.ts";
import { secretsController } from "./secrets/index.ts";
import { createSecretsService } from "./secrets/service.ts";
import { serviceTokensController } from "./service-tokens/index.ts";
import { createServiceTokensService } from "./service-tokens/service.ts";
import { sessionController } from "./session/index.ts";
import { createSessionService } from "./session/service.ts";
import { createSealer } from "./vault/sealer.ts";
import { createVaultClient } from "./vault/vault-client.ts";
import { dashboardController } from "./web/index.ts";
import { dashboardFiles } from "./web/static-files.ts";

/** The settings the app uses (the process-level ones, host, port, NATS, stay in `main.ts`). */
export type AppConfig = Omit<AdminApiConfig, "host" | "port" | "logLevel" | `nats${string}` | "busNamespace">;

export interface AppDeps {
  bus: Bus;
  logger: Logger;
  config: AppConfig;
  /** Milliseconds clock for rate limits, the auth cache and cookie lifetimes. */
  now?: () => number;
  /**
   * A field a handler returns that its response schema does not declare: dropped (the default, so an
   * unplanned field never leaves the API) or `"refuse"`d with a 500 (the contract tests, so that it fails
   * them instead of going unseen).
   */
  undeclaredResponseFields?: "drop" | "refuse";
}

const healthTimeoutMs = 2_000;
/** A credential that authenticated spends no budget for this long (a refusal forgets it sooner). */
const knownCredentialTtlMs = 24 * 60 * 60 * 1000;

export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const vault = createVaultClient(deps.bus, config.vaultTimeoutMs);
  const budgets = createAdminBudgets({
    unknownPerMinute: config.authFailureRatePerMinute,
    refusalsPerMinute: config.credentialRefusalRatePerMinute,
    loginsPerMinute: config.loginRatePerMinute,
    knownTtlMs: knownCredentialTtlMs,
    knownMaxEntries: 10_000,
    throttled: createThrottleReport({
      bus: deps.bus,
      operation: adminOperations.reportThrottled,
      logger,
      now,
    }),
    now,
  });
  const oidcSettings = oidcSettingsFromConfig(config);
  const oidc = oidcSettings ? createOidcVerifier(oidcSettings) : undefined;
  const authenticator = createAuthenticator({
    vault,
    budgets,
    cache: new AuthCache<Principal>({
      ttlMs: config.authCacheMs,
      maxEntries: config.authCacheMaxEntries,
      now,
    }),
    oidc,
    publicOrigin: config.publicOrigin,
    cookieSecure: config.cookieSecure,
  });
  const auth = adminAuth(authenticator);
  const jsonBody = jsonBodyParsing(config.maxBodyBytes);
  const healthVault = createVaultClient(deps.bus, Math.min(config.vaultTimeoutMs, healthTimeoutMs));

  return new Elysia({ name: "admin-api", normalize: deps.undeclaredResponseFields !== "refuse" })
    .use(openApiDocs({ cookieSecure: config.cookieSecure }))
    .use(
      requestPipeline({
        logger,
        trustProxy: config.trustProxy,
        maxBodyBytes: config.maxBodyBytes,
        quietRoutes: ["/healthz"],
      }),
    )
    .use(healthController({ pingVault: () => healthVault.call(adminOperations.ping, {}) }))
    .use(
      sessionController({
        sessions: createSessionService({
          vault,
          budgets,
          authenticator,
          cookieSecure: config.cookieSecure,
          publicOrigin: config.publicOrigin,
          now,
        }),
        auth,
        jsonBody,
      }),
    )
    .use(
      secretsController({
        secrets: createSecretsService({ vault, sealer: createSealer(vault) }),
        auth,
        jsonBody,
      }),
    )
    .use(accessRequestsController({ accessRequests: createAccessRequestsService({ vault }), auth, jsonBody }))
    .use(serviceTokensController({ serviceTokens: createServiceTokensService({ vault }), auth }))
    .use(auditController({ audit: createAuditService({ audit: vault }), auth }))
    .use(keysController({ keys: createKeysService({ vault }), auth }))
    .use(dashboardController({ files: dashboardFiles(config.webDir) }));
}

export type AdminApp = ReturnType<typeof createApp>;
