/** Rows as the admin operations' replies carry them: proto records, never a value or a token hash. */
import {
  AccessRequestRecord,
  AccessStatus,
  PendingLimit,
  SecretRecord,
  SecretVersionRecord,
  ServiceTokenRecord,
  ServiceTokenStatus,
} from "@secrets/proto/admin";
import { tokenFingerprint } from "@secrets/validation";
import type { AccessRequestWithSecret } from "../access-requests/access-requests-dal.ts";
import type { PendingLimitHit } from "../db/pending-limits.ts";
import type {
  AccessRequestStatus,
  Secret,
  SecretVersion,
  ServiceTokenStatus as StoredTokenStatus,
} from "../db/schema.ts";
import type { ServiceTokenWithInheritedAccess } from "../service-tokens/service-tokens-dal.ts";

const ms = (date: Date | null) => (date === null ? undefined : date.getTime());

export function secretRecord(
  secret: Omit<Secret, "valueEncrypted"> & { hasValue: boolean; requestedBy: string[] },
) {
  return SecretRecord.fromPartial({
    id: secret.id,
    name: secret.name,
    description: secret.description,
    hasValue: secret.hasValue,
    isActive: secret.isActive,
    isStub: secret.isStub,
    createdAtMs: secret.createdAt.getTime(),
    updatedAtMs: secret.updatedAt.getTime(),
    createdBy: secret.createdBy,
    requestedBy: secret.requestedBy,
    version: secret.version,
  });
}

export function secretVersionRecord(
  row: Pick<SecretVersion, "version" | "createdAt" | "createdBy" | "restoredFrom">,
) {
  return SecretVersionRecord.fromPartial({
    version: row.version,
    createdAtMs: row.createdAt.getTime(),
    createdBy: row.createdBy,
    restoredFrom: row.restoredFrom,
  });
}

/** A full secret row without its ciphertext, as `secretRecord` takes it. */
export function withoutValue(secret: Secret, requestedBy: string[]) {
  const { valueEncrypted, ...rest } = secret;
  return { ...rest, hasValue: valueEncrypted !== null, requestedBy };
}

export const accessStatusToProto: Record<AccessRequestStatus, AccessStatus> = {
  pending: AccessStatus.PENDING,
  granted: AccessStatus.GRANTED,
  denied: AccessStatus.DENIED,
};

export const accessStatusFromProto = new Map<AccessStatus, AccessRequestStatus>([
  [AccessStatus.PENDING, "pending"],
  [AccessStatus.GRANTED, "granted"],
  [AccessStatus.DENIED, "denied"],
]);

export function accessRequestRecord(row: AccessRequestWithSecret) {
  return AccessRequestRecord.fromPartial({
    id: row.id,
    secretId: row.secretId,
    secretName: row.secretName,
    serviceName: row.serviceName,
    status: accessStatusToProto[row.status],
    requestedAtMs: row.requestedAt.getTime(),
    grantedAtMs: ms(row.grantedAt),
    grantedBy: row.grantedBy ?? "",
    accessCount: row.accessCount,
    lastAccessedAtMs: ms(row.lastAccessedAt),
    requestedDescription: row.requestedDescription,
  });
}

export const tokenStatusToProto: Record<StoredTokenStatus, ServiceTokenStatus> = {
  pending: ServiceTokenStatus.PENDING,
  approved: ServiceTokenStatus.APPROVED,
  denied: ServiceTokenStatus.DENIED,
  revoked: ServiceTokenStatus.REVOKED,
};

export const tokenStatusFromProto = new Map<ServiceTokenStatus, StoredTokenStatus>([
  [ServiceTokenStatus.PENDING, "pending"],
  [ServiceTokenStatus.APPROVED, "approved"],
  [ServiceTokenStatus.DENIED, "denied"],
  [ServiceTokenStatus.REVOKED, "revoked"],
]);

export function serviceTokenRecord(row: ServiceTokenWithInheritedAccess) {
  return ServiceTokenRecord.fromPartial({
    id: row.id,
    serviceName: row.serviceName,
    serviceVersion: row.serviceVersion,
    status: tokenStatusToProto[row.status],
    requestedAtMs: row.requestedAt.getTime(),
    approvedAtMs: ms(row.approvedAt),
    approvedBy: row.approvedBy ?? "",
    lastUsedAtMs: ms(row.lastUsedAt),
    accessCount: row.accessCount,
    inheritedAccessRequests: row.inheritedAccessRequests,
    fingerprint: tokenFingerprint(row.tokenHash),
    clientAddress: row.clientAddress,
  });
}

/** A full queue as the list replies report it (the total token limit is not a service's or address's). */
export function pendingLimitRecords(hits: readonly PendingLimitHit[]): PendingLimit[] {
  return hits
    .filter((hit) => hit.scope !== "all")
    .map((hit) =>
      PendingLimit.fromPartial({
        serviceName: hit.scope === "service" ? hit.key : "",
        clientAddress: hit.scope === "address" ? hit.key : "",
        pending: hit.pending,
        limit: hit.limit,
      }),
    );
}
