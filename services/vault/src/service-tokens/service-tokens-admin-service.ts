import { AuditEventName, BusError, ErrorCode, type AuditEventName as EventName } from "@secrets/bus";
import type { ServiceTokenStatus as ProtoTokenStatus } from "@secrets/proto/admin";
import { tokenFingerprint } from "@secrets/validation";
import { type Admin, pageLimit } from "../admin/admin-context.ts";
import { pendingLimitRecords, serviceTokenRecord, tokenStatusFromProto } from "../admin/records.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { InvalidateCache } from "../cache/cache-invalidation.ts";
import type { Dals } from "../db/dals.ts";
import type { PendingLimits } from "../db/pending-limits.ts";
import type { ServiceTokenStatus } from "../db/schema.ts";

/** Which stored statuses each decision may start from; the target status itself is a no-op. */
const transitions = {
  approved: { from: ["pending", "denied"], event: AuditEventName.tokenApprove },
  denied: { from: ["pending"], event: AuditEventName.tokenDeny },
  revoked: { from: ["pending", "approved", "denied"], event: AuditEventName.tokenRevoke },
} as const satisfies Record<string, { from: readonly ServiceTokenStatus[]; event: EventName }>;

const refusals: Record<string, string> = {
  "revoked>approved": "A revoked token cannot be approved again; the service must register a new token",
  "approved>denied": "An approved token cannot be denied; revoke it instead",
  "revoked>denied": "The token is already revoked",
};

/**
 * Admin decisions on service tokens: approve, deny, revoke; each attributed and audited, and invalidated
 * in every vault's cache before the admin hears it is done (a revoked token stops working at once).
 */
export function createServiceTokensAdminService(deps: {
  dals: Pick<Dals, "serviceTokens">;
  audit: AdminAudit;
  invalidate: InvalidateCache;
  pendingLimits: Pick<PendingLimits, "tokensPerService" | "tokensPerAddress">;
}) {
  async function decide(admin: Admin, id: string, target: keyof typeof transitions) {
    const rule = transitions[target];
    const result = await deps.audit.change({ ...admin, event: rule.event, targetId: id }, async (tx) => {
      const current = await tx.serviceTokens.findById(id);
      if (!current) throw new BusError(ErrorCode.NOT_FOUND, `No service token has the id "${id}"`);
      // The fingerprint names which of the service's tokens the decision was about.
      const facts = { serviceName: current.serviceName, subject: tokenFingerprint(current.tokenHash) };
      if (current.status !== target) {
        if (!(rule.from as readonly ServiceTokenStatus[]).includes(current.status)) {
          const message =
            refusals[`${current.status}>${target}`] ?? `A ${current.status} token cannot become ${target}`;
          throw new BusError(ErrorCode.FAILED_PRECONDITION, message);
        }
        await tx.serviceTokens.setStatus(id, target, admin.actor);
      }
      const row = await tx.serviceTokens.findWithInheritedAccess(id);
      if (!row) throw new BusError(ErrorCode.NOT_FOUND, `No service token has the id "${id}"`);
      return { result: { serviceToken: serviceTokenRecord(row) }, facts };
    });
    await deps.invalidate({ tokenIds: [id] });
    return result;
  }

  return {
    list(admin: Admin, request: { status: ProtoTokenStatus; limit: number; cursor: string }) {
      return deps.audit.read({ ...admin, event: AuditEventName.tokenList }, async () => {
        const page = await deps.dals.serviceTokens.list({
          status: tokenStatusFromProto.get(request.status),
          limit: pageLimit(request.limit),
          cursor: request.cursor || undefined,
        });
        const full = await deps.dals.serviceTokens.pendingLimitsReached(deps.pendingLimits);
        return {
          serviceTokens: page.items.map(serviceTokenRecord),
          nextCursor: page.nextCursor ?? "",
          pendingLimitsReached: pendingLimitRecords(full),
        };
      });
    },
    approve: (admin: Admin, id: string) => decide(admin, id, "approved"),
    deny: (admin: Admin, id: string) => decide(admin, id, "denied"),
    revoke: (admin: Admin, id: string) => decide(admin, id, "revoked"),
  };
}
