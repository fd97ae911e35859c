/** Record builders for the fake vault: proto records with sensible defaults, overridable per test. */
import {
  type AccessRequestRecord,
  AccessStatus,
  type SecretRecord,
  type ServiceTokenRecord,
  ServiceTokenStatus,
} from "@secrets/proto/admin";

const at = Date.UTC(2025, 0, 17, 10, 30);

export function secretRecord(fields: Partial<SecretRecord> & { name: string }): SecretRecord {
  return {
    id: Bun.randomUUIDv7(),
    description: "",
    hasValue: false,
    isActive: true,
    isStub: false,
    createdAtMs: at,
    updatedAtMs: at,
    createdBy: "seed",
    requestedBy: [],
    version: 0,
    ...fields,
  };
}

export function accessRequestRecord(
  fields: Partial<AccessRequestRecord> & { secretId: string; secretName: string; serviceName: string },
): AccessRequestRecord {
  return {
    id: Bun.randomUUIDv7(),
    status: AccessStatus.PENDING,
    requestedAtMs: at,
    grantedAtMs: undefined,
    grantedBy: "",
    accessCount: 0,
    lastAccessedAtMs: undefined,
    requestedDescription: "",
    ...fields,
  };
}

export function serviceTokenRecord(
  fields: Partial<ServiceTokenRecord> & { serviceName: string },
): ServiceTokenRecord {
  return {
    id: Bun.randomUUIDv7(),
    serviceVersion: "1.0.0",
    status: ServiceTokenStatus.PENDING,
    requestedAtMs: at,
    approvedAtMs: undefined,
    approvedBy: "",
    lastUsedAtMs: undefined,
    accessCount: 0,
    inheritedAccessRequests: 0,
    fingerprint: "ab12cd34",
    clientAddress: "10.0.0.9",
    ...fields,
  };
}
