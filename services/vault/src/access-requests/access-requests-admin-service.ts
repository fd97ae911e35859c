import { AuditEventName, BusError, ErrorCode, invalidArgument } from "@secrets/bus";
import type { AccessStatus } from "@secrets/proto/admin";
import { checkSecretName, checkServiceName } from "@secrets/validation";
import { type Admin, pageLimit } from "../admin/admin-context.ts";
import { accessRequestRecord, accessStatusFromProto, pendingLimitRecords } from "../admin/records.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { InvalidateCache } from "../cache/cache-invalidation.ts";
import type { Dals } from "../db/dals.ts";
import type { PendingLimits } from "../db/pending-limits.ts";

/**
 * Admin decisions on access requests. Access requests belong to the service name: granting one lets every
 * approved token of that service read the secret. A decision can be changed (a granted request revoked by
 * denying it), and every vault's cache hears of it before the admin does (a denied request stops working
 * at once).
 */
export function createAccessRequestsAdminService(deps: {
  dals: Pick<Dals, "accessRequests">;
  audit: AdminAudit;
  invalidate: InvalidateCache;
  pendingLimits: Pick<PendingLimits, "requestsPerService">;
}) {
  async function decide(admin: Admin, id: string, status: "granted" | "denied") {
    const event = status === "granted" ? AuditEventName.accessApprove : AuditEventName.accessDeny;
    const result = await deps.audit.change({ ...admin, event, targetId: id }, async (tx) => {
      const current = await tx.accessRequests.findById(id);
      if (!current) throw new BusError(ErrorCode.NOT_FOUND, `No access request has the id "${id}"`);
      const row = await tx.accessRequests.decide(id, status, admin.actor);
      if (!row) throw new BusError(ErrorCode.NOT_FOUND, `No access request has the id "${id}"`);
      return {
        result: { accessRequest: accessRequestRecord(row) },
        facts: { secretId: row.secretId, secretName: row.secretName, serviceName: row.serviceName },
      };
    });
    await invalidateAccessRequest(result.accessRequest);
    return result;
  }

  const invalidateAccessRequest = (request: { secretId: string; serviceName: string } | undefined) =>
    request
      ? deps.invalidate({
          accessRequests: [{ secretId: request.secretId, serviceName: request.serviceName }],
        })
      : undefined;

  return {
    list(admin: Admin, request: { status: AccessStatus; limit: number; cursor: string }) {
      return deps.audit.read({ ...admin, event: AuditEventName.accessList }, async () => {
        const page = await deps.dals.accessRequests.list({
          status: accessStatusFromProto.get(request.status),
          limit: pageLimit(request.limit),
          cursor: request.cursor || undefined,
        });
        const full = await deps.dals.accessRequests.pendingLimitsReached(
          deps.pendingLimits.requestsPerService,
        );
        return {
          accessRequests: page.items.map(accessRequestRecord),
          nextCursor: page.nextCursor ?? "",
          pendingLimitsReached: pendingLimitRecords(full),
        };
      });
    },
    approve: (admin: Admin, id: string) => decide(admin, id, "granted"),

    /** Grants `serviceName` access to a secret whether or not the service has asked yet. */
    async grant(admin: Admin, secretName: string, serviceName: string) {
      const facts = { ...admin, event: AuditEventName.accessApprove, secretName, serviceName };
      const result = await deps.audit.change(facts, async (tx) => {
        const violations = [...checkSecretName(secretName), ...checkServiceName(serviceName)];
        if (violations.length > 0) throw invalidArgument(violations);
        const secret = await tx.secrets.findByName(secretName);
        if (!secret) throw new BusError(ErrorCode.NOT_FOUND, `No secret is named ${secretName}`);
        const existing = await tx.accessRequests.find(secret.id, serviceName);
        const request =
          existing ?? (await tx.accessRequests.insertPending({ secretId: secret.id, serviceName }));
        const row = await tx.accessRequests.decide(request.id, "granted", admin.actor);
        if (!row)
          throw new BusError(ErrorCode.CONFLICT, `Secret ${secretName} was deleted concurrently; try again`);
        return {
          result: { accessRequest: accessRequestRecord(row), created: !existing },
          facts: { secretId: secret.id, targetId: row.id },
        };
      });
      await invalidateAccessRequest(result.accessRequest);
      return result;
    },
    deny: (admin: Admin, id: string) => decide(admin, id, "denied"),
  };
}
