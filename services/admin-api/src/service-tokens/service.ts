/** Service tokens over the bus: list, and the admin's decisions (approve, deny, revoke). */
import { adminOperations } from "@secrets/bus";
import { type AdminContext, type ServiceTokenRecord, ServiceTokenStatus } from "@secrets/proto/admin";
import { iso, isoOrNull, orNull, pageSize, pendingLimitView } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type {
  ListServiceTokensQuery,
  ServiceTokenList,
  ServiceTokenStatusName,
  ServiceTokenView,
} from "./model.ts";

const toProto: Record<ServiceTokenStatusName, ServiceTokenStatus> = {
  pending: ServiceTokenStatus.PENDING,
  approved: ServiceTokenStatus.APPROVED,
  denied: ServiceTokenStatus.DENIED,
  revoked: ServiceTokenStatus.REVOKED,
};

function statusName(status: ServiceTokenStatus): ServiceTokenStatusName {
  const name = (Object.keys(toProto) as ServiceTokenStatusName[]).find((key) => toProto[key] === status);
  if (!name) throw new Error(`The vault sent an unknown service token status ${status}`);
  return name;
}

export function serviceTokenView(record: ServiceTokenRecord): ServiceTokenView {
  return {
    id: record.id,
    serviceName: record.serviceName,
    serviceVersion: record.serviceVersion,
    status: statusName(record.status),
    requestedAt: iso(record.requestedAtMs),
    approvedAt: isoOrNull(record.approvedAtMs),
    approvedBy: orNull(record.approvedBy),
    lastUsedAt: isoOrNull(record.lastUsedAtMs),
    accessCount: record.accessCount,
    inheritedAccessRequests: record.inheritedAccessRequests,
    fingerprint: record.fingerprint,
    clientAddress: orNull(record.clientAddress),
  };
}

const decisions = {
  approve: adminOperations.approveServiceToken,
  deny: adminOperations.denyServiceToken,
  revoke: adminOperations.revokeServiceToken,
} as const;

export type ServiceTokenDecision = keyof typeof decisions;

export function createServiceTokensService(deps: { vault: VaultClient }) {
  const { vault } = deps;
  return {
    async list(admin: AdminContext, query: ListServiceTokensQuery): Promise<ServiceTokenList> {
      const reply = await vault.call(adminOperations.listServiceTokens, {
        admin,
        status: query.status === undefined ? ServiceTokenStatus.UNSPECIFIED : toProto[query.status],
        limit: pageSize(query.limit),
        cursor: query.cursor ?? "",
      });
      return {
        serviceTokens: reply.serviceTokens.map(serviceTokenView),
        nextCursor: orNull(reply.nextCursor),
        pendingLimitsReached: reply.pendingLimitsReached.map(pendingLimitView),
      };
    },

    async decide(admin: AdminContext, id: string, decision: ServiceTokenDecision) {
      const reply = await vault.call(decisions[decision], { admin, id });
      if (!reply.serviceToken) throw new Error("The vault's decision reply holds no service token");
      return { serviceToken: serviceTokenView(reply.serviceToken) };
    },
  };
}

export type ServiceTokensService = ReturnType<typeof createServiceTokensService>;
