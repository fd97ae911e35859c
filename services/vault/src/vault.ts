import {
  auditStreamSpec,
  type Bus,
  publish,
  type Subscription,
  secretChangedTopic,
  serviceTokensChangedTopic,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SealingKeyPair } from "@secrets/sealing";
import { sql } from "drizzle-orm";
import { createAccessRequestsAdminService } from "./access-requests/access-requests-admin-service.ts";
import { type AdminJwtVerifier, createAdminResolver } from "./admin/admin-resolver.ts";
import { createAdminAuthDal } from "./admin-auth/admin-auth-dal.ts";
import { createAdminAuthService } from "./admin-auth/admin-auth-service.ts";
import { bootstrapAdminToken, startBootstrapReminder } from "./admin-auth/bootstrap.ts";
import { createAdminAudit } from "./audit/admin-audit.ts";
import { createAuditRecorder } from "./audit/audit-recorder.ts";
import { ensureAuditStream } from "./audit/audit-stream-setup.ts";
import { createOutboxRelay } from "./audit/outbox-relay.ts";
import { createCacheInvalidator } from "./cache/cache-invalidation.ts";
import { cachedLookups, createLookupCache } from "./cache/lookup-cache.ts";
import type { Database } from "./db/connection.ts";
import { createDals } from "./db/dals.ts";
import { defaultPendingLimits, type PendingLimits } from "./db/pending-limits.ts";
import { serveAdminOperations } from "./handlers/admin-handlers.ts";
import { serveServiceOperations } from "./handlers/service-handlers.ts";
import type { Keyring } from "./keyring/index.ts";
import { createExpiryDal } from "./lifecycle/expiry-dal.ts";
import { createPendingExpiry, type PendingExpiryOptions } from "./lifecycle/pending-expiry.ts";
import { createKeyRotation, type KeyRotationOptions } from "./rotation/key-rotation.ts";
import { createKeysAdminService } from "./rotation/keys-admin-service.ts";
import { createGetSecretService } from "./secrets/get-secret-service.ts";
import { createSecretsAdminService } from "./secrets/secrets-admin-service.ts";
import { createWatchDal } from "./secrets/watch-dal.ts";
import { createWatchService } from "./secrets/watch-service.ts";
import { createApprovedTokenKeys } from "./service-tokens/approved-token-keys.ts";
import { createRegisterTokenService } from "./service-tokens/register-token-service.ts";
import { createServiceTokensAdminService } from "./service-tokens/service-tokens-admin-service.ts";
import {
  adminThrottledMethods,
  createThrottleReportService,
  gatewayThrottledMethods,
} from "./service-tokens/throttle-report-service.ts";
import { createTokenAuthenticator } from "./service-tokens/token-authenticator.ts";
import { createUsageRecorder } from "./usage/usage-recorder.ts";

export interface VaultOptions {
  auditTimeoutMs: number;
  auditStream: { maxBytes: number; maxAgeMs: number };
  usageFlushIntervalMs: number;
  maxPendingTokens: number;
  /** Limits of the pending queues per service name and client address; default `defaultPendingLimits`. */
  pendingLimits?: Omit<PendingLimits, "tokensTotal">;
  /** How often the audit outbox is swept for events left unpublished. */
  outboxIntervalMs?: number;
  /** Versions kept per secret, the current one included (default 10). */
  secretVersionsKept?: number;
  /** How long a dashboard session lasts. */
  adminSessionTtlMs: number;
  /** Becomes the first admin token when no admin token exists yet. */
  adminBootstrap?: { token: string; name: string } | undefined;
  /** Verifies admins' OIDC JWTs (ADMIN_OIDC_*); without it, an operation carrying a JWT is refused. */
  adminJwt?: AdminJwtVerifier;
  /** How often the log repeats that the bootstrap admin token is still active. Default 1 h. */
  bootstrapReminderIntervalMs?: number;
  /** Encryption-key rotation and rewrap; defaults: every 30 days, checked every minute. */
  keyRotation?: KeyRotationOptions;
  /** Pending tokens and access requests are removed after this long; default 30 days, checked hourly. */
  pendingExpiry?: PendingExpiryOptions;
  /**
   * The request path's cache of tokens, secrets and access requests (see `cache/README.md`): entries live
   * `ttlMs` at most (0 turns caching off), `maxEntries` per kind. Default 2 s and 10,000.
   */
  cache?: { ttlMs: number; maxEntries: number };
}

export const defaultCacheOptions = { ttlMs: 2_000, maxEntries: 10_000 };

const defaultKeyRotation: KeyRotationOptions = {
  rotationIntervalMs: 30 * 86_400_000,
  checkIntervalMs: 60_000,
  batchSize: 100,
  retireGraceMs: 300_000,
};

export interface VaultDeps {
  bus: Bus;
  db: Database;
  keyring: Keyring;
  sealingKey: SealingKeyPair;
  logger: Logger;
  options: VaultOptions;
}

export interface RunningVault {
  /** True when this start stored `adminBootstrap` as the first admin token. */
  readonly adminBootstrapped: boolean;
  /** Stops serving, then writes pending counters and relays what the outbox holds. */
  stop(): Promise<void>;
}

/**
 * Wires the vault: data access, audit, workflows, and the bus operations it serves. Used by `main.ts` and
 * by the embedded mode; the caller owns the bus, the database and the keys.
 */
export async function startVault(deps: VaultDeps): Promise<RunningVault> {
  const { bus, db, logger, options } = deps;
  await ensureAuditStream(bus, auditStreamSpec(options.auditStream), logger);
  const dals = createDals(db);
  const cache = createLookupCache(options.cache ?? defaultCacheOptions);
  const invalidator = createCacheInvalidator({ bus, cache, logger });
  const lookups = cachedLookups(cache, dals);
  // Gateways keep the approved token keys: a change to any token's status tells them to fetch them again.
  const invalidate: typeof invalidator.invalidate = async (change) => {
    await invalidator.invalidate(change);
    if ((change.tokenIds?.length ?? 0) > 0 || change.all) publish(bus, serviceTokensChangedTopic, {});
  };
  const cachedTokens = { ...dals.serviceTokens, findByHash: lookups.findTokenByHash };
  const pendingLimits: PendingLimits = {
    ...(options.pendingLimits ?? defaultPendingLimits),
    tokensTotal: options.maxPendingTokens,
  };
  const authenticate = createTokenAuthenticator({ serviceTokens: cachedTokens });
  const recorder = createAuditRecorder({ bus, logger, timeoutMs: options.auditTimeoutMs });
  const audit = createAdminAudit({ db, recorder, logger });
  const usage = createUsageRecorder({
    logger,
    intervalMs: options.usageFlushIntervalMs,
    sink: {
      recordTokenUsage: (entries) => dals.serviceTokens.recordUsage(entries),
      recordAccessUsage: (entries) => dals.accessRequests.recordUsage(entries),
    },
  });
  const relay = createOutboxRelay({
    outbox: dals.auditOutbox,
    recorder,
    logger,
    intervalMs: options.outboxIntervalMs ?? 5_000,
    graceMs: 2_000,
  });
  const adminAuthDal = createAdminAuthDal({ db });
  const adminAuth = createAdminAuthService({
    dal: adminAuthDal,
    recorder,
    sessionTtlMs: options.adminSessionTtlMs,
  });
  const expiry = createPendingExpiry({
    dal: createExpiryDal({ db }),
    audit,
    invalidate,
    logger,
    options: options.pendingExpiry ?? { maxAgeMs: 30 * 86_400_000, checkIntervalMs: 3_600_000 },
  });
  const rotationOptions = options.keyRotation ?? defaultKeyRotation;
  const rotation = createKeyRotation({ db, keyring: deps.keyring, audit, logger, options: rotationOptions });
  const adminBootstrapped = options.adminBootstrap
    ? await bootstrapAdminToken(adminAuthDal, options.adminBootstrap)
    : false;
  if (adminBootstrapped)
    logger.info("stored the bootstrap admin token", { admin: options.adminBootstrap?.name });
  const bootstrapReminder = startBootstrapReminder({
    dal: adminAuthDal,
    logger,
    environmentToken: options.adminBootstrap?.token,
    intervalMs: options.bootstrapReminderIntervalMs ?? 3_600_000,
  });
  await bootstrapReminder.first;
  const checkReady = async () => {
    await db.execute(sql`select 1`);
  };

  const subscriptions: Subscription[] = [
    // First, so that no request is served before this replica hears about changes.
    invalidator.listen(),
    ...serveServiceOperations(bus, {
      checkReady,
      getSecret: createGetSecretService({
        authenticate,
        secrets: {
          ...dals.secrets,
          findByName: lookups.findSecretByName,
          refreshByName: lookups.refreshSecretByName,
        },
        accessRequests: { ...dals.accessRequests, find: lookups.findAccess },
        keyring: deps.keyring,
        recorder,
        usage,
        invalidate: invalidator.invalidateUnconfirmed,
        warm: lookups.warm,
        logger,
        pendingRequestsPerService: pendingLimits.requestsPerService,
      }),
      registerToken: createRegisterTokenService({
        serviceTokens: cachedTokens,
        recorder,
        logger,
        pendingLimits,
      }),
      approvedTokenKeys: createApprovedTokenKeys({ db }),
      reportThrottled: createThrottleReportService({
        methods: gatewayThrottledMethods,
        serviceTokens: cachedTokens,
        recorder,
        logger,
      }),
      authorizeWatch: createWatchService({
        authenticate,
        accessRequests: createWatchDal({ db }),
        recorder,
        logger,
      }),
    }),
    ...serveAdminOperations(bus, {
      checkReady,
      logger,
      keys: createKeysAdminService({
        rotation,
        keyring: deps.keyring,
        audit,
        rotationIntervalMs: rotationOptions.rotationIntervalMs,
      }),
      adminAuth,
      resolveAdmin: createAdminResolver({ adminAuth, jwt: options.adminJwt, recorder }),
      reportThrottled: createThrottleReportService({ methods: adminThrottledMethods, recorder, logger }),
      sealingKey: deps.sealingKey,
      secrets: createSecretsAdminService({
        dals,
        audit,
        keyring: deps.keyring,
        sealingKey: deps.sealingKey,
        logger,
        versionsKept: options.secretVersionsKept ?? 10,
        announce: (change) => publish(bus, secretChangedTopic, change),
        invalidate: invalidator.invalidate,
      }),
      accessRequests: createAccessRequestsAdminService({
        dals,
        audit,
        invalidate: invalidator.invalidate,
        pendingLimits,
      }),
      serviceTokens: createServiceTokensAdminService({ dals, audit, invalidate, pendingLimits }),
    }),
  ];
  await bus.flush();
  usage.start();
  relay.start();
  rotation.start();
  expiry.start();
  void relay.relayOnce().catch(() => {});

  return {
    adminBootstrapped,
    async stop() {
      bootstrapReminder.stop();
      await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
      await rotation.stop();
      await expiry.stop();
      await relay.stop();
      await usage.stop();
    },
  };
}
