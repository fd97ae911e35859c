import {
  adminOperations,
  type Bus,
  BusError,
  ErrorCode,
  AuditEventName as Events,
  type Subscription,
  serve,
  vaultQueue,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SealingKeyPair } from "@secrets/sealing";
import type { createAccessRequestsAdminService } from "../access-requests/access-requests-admin-service.ts";
import type { ResolveAdmin } from "../admin/admin-resolver.ts";
import type { AdminAuthService } from "../admin-auth/admin-auth-service.ts";
import { toBusError } from "../errors.ts";
import type { KeysAdminService } from "../rotation/keys-admin-service.ts";
import type { createSecretsAdminService } from "../secrets/secrets-admin-service.ts";
import type { createServiceTokensAdminService } from "../service-tokens/service-tokens-admin-service.ts";
import type { createThrottleReportService } from "../service-tokens/throttle-report-service.ts";

export interface AdminHandlerDeps {
  secrets: ReturnType<typeof createSecretsAdminService>;
  accessRequests: ReturnType<typeof createAccessRequestsAdminService>;
  serviceTokens: ReturnType<typeof createServiceTokensAdminService>;
  adminAuth: AdminAuthService;
  /** The acting admin of an operation, from its credential (refused and audited without a valid one). */
  resolveAdmin: ResolveAdmin;
  keys: KeysAdminService;
  /** Admin credentials the admin API refused on a spent budget, as `calls.throttled` summaries. */
  reportThrottled: ReturnType<typeof createThrottleReportService>;
  sealingKey: Pick<SealingKeyPair, "keyId" | "publicKey">;
  checkReady: () => Promise<void>;
  logger: Logger;
}

/** Serves the admin operations (requested by the admin API) in the vault's queue group. */
export function serveAdminOperations(bus: Bus, deps: AdminHandlerDeps): Subscription[] {
  const options = { queue: vaultQueue };
  const guard =
    <Req, Rep>(operation: string, handle: (request: Req) => Promise<Rep>) =>
    async (request: Req): Promise<Rep> => {
      try {
        return await handle(request);
      } catch (error) {
        throw toBusError(error, deps.logger, operation);
      }
    };
  const { secrets, accessRequests, serviceTokens, adminAuth, keys } = deps;
  const admin = deps.resolveAdmin;
  return [
    serve(
      bus,
      adminOperations.rotateKey,
      options,
      guard("rotate-key", async (r) => keys.rotate(await admin(r.admin, Events.keyRotate))),
    ),
    serve(
      bus,
      adminOperations.keyStatus,
      options,
      guard("key-status", async (r) => keys.status(await admin(r.admin, Events.keyStatus))),
    ),
    serve(
      bus,
      adminOperations.adminPlaneStatus,
      options,
      guard("admin-plane-status", () => adminAuth.planeStatus()),
    ),
    serve(
      bus,
      adminOperations.authenticate,
      options,
      guard("authenticate", async (r) => ({ admin: await adminAuth.authenticateToken(r.tokenHash, r) })),
    ),
    serve(
      bus,
      adminOperations.createSession,
      options,
      guard("create-session", (r) => adminAuth.createSession(r)),
    ),
    serve(
      bus,
      adminOperations.authenticateSession,
      options,
      guard("authenticate-session", (r) => adminAuth.authenticateSession(r.sessionHash, r)),
    ),
    serve(
      bus,
      adminOperations.endSession,
      options,
      guard("end-session", async (r) => {
        await adminAuth.endSession(r);
        return {};
      }),
    ),
    serve(
      bus,
      adminOperations.reportThrottled,
      options,
      guard("report-throttled", async (r) => {
        await deps.reportThrottled(r.entries);
        return {};
      }),
    ),
    serve(
      bus,
      adminOperations.ping,
      options,
      guard("ping", async () => {
        await deps.checkReady().catch((cause: unknown) => {
          throw new BusError(ErrorCode.UNAVAILABLE, "The vault's database is unavailable", { cause });
        });
        return { nowMs: Date.now() };
      }),
    ),
    serve(
      bus,
      adminOperations.sealingKey,
      options,
      guard("sealing-key", async () => ({
        keyId: deps.sealingKey.keyId,
        publicKey: Buffer.from(deps.sealingKey.publicKey),
      })),
    ),
    serve(
      bus,
      adminOperations.listSecrets,
      options,
      guard("list-secrets", async (r) => secrets.list(await admin(r.admin, Events.secretList), r)),
    ),
    serve(
      bus,
      adminOperations.putSecret,
      options,
      guard("put-secret", async (r) =>
        secrets.put(await admin(r.admin, Events.secretPut), {
          name: r.name,
          description: r.description,
          value: r.value,
          expectedVersion: r.expectedVersion,
        }),
      ),
    ),
    serve(
      bus,
      adminOperations.deleteSecret,
      options,
      guard("delete-secret", async (r) => secrets.remove(await admin(r.admin, Events.secretDelete), r.id)),
    ),
    serve(
      bus,
      adminOperations.listSecretVersions,
      options,
      guard("list-secret-versions", async (r) =>
        secrets.listVersions(await admin(r.admin, Events.secretVersions), r.id),
      ),
    ),
    serve(
      bus,
      adminOperations.rollbackSecret,
      options,
      guard("rollback-secret", async (r) =>
        secrets.rollback(await admin(r.admin, Events.secretRollback), {
          id: r.id,
          version: r.version,
          expectedVersion: r.expectedVersion,
        }),
      ),
    ),
    serve(
      bus,
      adminOperations.listAccessRequests,
      options,
      guard("list-access-requests", async (r) =>
        accessRequests.list(await admin(r.admin, Events.accessList), r),
      ),
    ),
    serve(
      bus,
      adminOperations.approveAccessRequest,
      options,
      guard("approve-access-request", async (r) =>
        accessRequests.approve(await admin(r.admin, Events.accessApprove), r.id),
      ),
    ),
    serve(
      bus,
      adminOperations.denyAccessRequest,
      options,
      guard("deny-access-request", async (r) =>
        accessRequests.deny(await admin(r.admin, Events.accessDeny), r.id),
      ),
    ),
    serve(
      bus,
      adminOperations.grantAccess,
      options,
      guard("grant-access", async (r) =>
        accessRequests.grant(await admin(r.admin, Events.accessApprove), r.secretName, r.serviceName),
      ),
    ),
    serve(
      bus,
      adminOperations.listServiceTokens,
      options,
      guard("list-service-tokens", async (r) =>
        serviceTokens.list(await admin(r.admin, Events.tokenList), r),
      ),
    ),
    serve(
      bus,
      adminOperations.approveServiceToken,
      options,
      guard("approve-service-token", async (r) =>
        serviceTokens.approve(await admin(r.admin, Events.tokenApprove), r.id),
      ),
    ),
    serve(
      bus,
      adminOperations.denyServiceToken,
      options,
      guard("deny-service-token", async (r) =>
        serviceTokens.deny(await admin(r.admin, Events.tokenDeny), r.id),
      ),
    ),
    serve(
      bus,
      adminOperations.revokeServiceToken,
      options,
      guard("revoke-service-token", async (r) =>
        serviceTokens.revoke(await admin(r.admin, Events.tokenRevoke), r.id),
      ),
    ),
  ];
}
