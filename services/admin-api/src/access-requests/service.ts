/** Access requests over the bus: list, and the admin's decision (grant or deny) on one. */
import { adminOperations } from "@secrets/bus";
import { type AccessRequestRecord, AccessStatus, type AdminContext } from "@secrets/proto/admin";
import { checkSecretName, checkServiceName } from "@secrets/validation";
import { apiErrors } from "../http/api-error.ts";
import { iso, isoOrNull, orNull, pageSize, pendingLimitView } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type {
  AccessRequestList,
  AccessRequestView,
  AccessStatusName,
  GrantAccessBody,
  ListAccessRequestsQuery,
} from "./model.ts";

const toProto: Record<AccessStatusName, AccessStatus> = {
  pending: AccessStatus.PENDING,
  granted: AccessStatus.GRANTED,
  denied: AccessStatus.DENIED,
};

function statusName(status: AccessStatus): AccessStatusName {
  const name = (Object.keys(toProto) as AccessStatusName[]).find((key) => toProto[key] === status);
  if (!name) throw new Error(`The vault sent an unknown access status ${status}`);
  return name;
}

export function accessRequestView(record: AccessRequestRecord): AccessRequestView {
  return {
    id: record.id,
    secretId: record.secretId,
    secretName: record.secretName,
    serviceName: record.serviceName,
    status: statusName(record.status),
    requestedAt: iso(record.requestedAtMs),
    grantedAt: isoOrNull(record.grantedAtMs),
    grantedBy: orNull(record.grantedBy),
    accessCount: record.accessCount,
    lastAccessedAt: isoOrNull(record.lastAccessedAtMs),
    requestedDescription: orNull(record.requestedDescription),
  };
}

export function createAccessRequestsService(deps: { vault: VaultClient }) {
  const { vault } = deps;

  async function decide(admin: AdminContext, id: string, decision: "approve" | "deny") {
    const operation =
      decision === "approve" ? adminOperations.approveAccessRequest : adminOperations.denyAccessRequest;
    const reply = await vault.call(operation, { admin, id });
    if (!reply.accessRequest) throw new Error("The vault's decision reply holds no access request");
    return { accessRequest: accessRequestView(reply.accessRequest) };
  }

  return {
    async list(admin: AdminContext, query: ListAccessRequestsQuery): Promise<AccessRequestList> {
      const reply = await vault.call(adminOperations.listAccessRequests, {
        admin,
        status: query.status === undefined ? AccessStatus.UNSPECIFIED : toProto[query.status],
        limit: pageSize(query.limit),
        cursor: query.cursor ?? "",
      });
      return {
        accessRequests: reply.accessRequests.map(accessRequestView),
        nextCursor: orNull(reply.nextCursor),
        pendingLimitsReached: reply.pendingLimitsReached.map(pendingLimitView),
      };
    },
    /** Grants before the service asks; `created` when no request existed for the pair. */
    async grant(admin: AdminContext, input: GrantAccessBody) {
      const violations = [
        ...checkSecretName(input.secretName, "secretName"),
        ...checkServiceName(input.serviceName, "serviceName"),
      ];
      if (violations.length > 0) {
        throw apiErrors.invalid(violations.map((v) => ({ field: v.field, message: v.description })));
      }
      const reply = await vault.call(adminOperations.grantAccess, { admin, ...input });
      if (!reply.accessRequest) throw new Error("The vault's grant reply holds no access request");
      return { accessRequest: accessRequestView(reply.accessRequest), created: reply.created };
    },
    approve: (admin: AdminContext, id: string) => decide(admin, id, "approve"),
    deny: (admin: AdminContext, id: string) => decide(admin, id, "deny"),
  };
}

export type AccessRequestsService = ReturnType<typeof createAccessRequestsService>;
