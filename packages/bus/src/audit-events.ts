import type { AuditEvent } from "@secrets/proto/audit";

/** The closed set of audit event names (`AuditEvent.event`); also the `event` label in Loki. */
export const AuditEventName = {
  secretGet: "secret.get",
  secretWatch: "secret.watch",
  tokenRegister: "token.register",
  /** Calls a gateway refused on a spent budget without asking the vault, one event per summary. */
  callsThrottled: "calls.throttled",
  secretList: "secret.list",
  secretPut: "secret.put",
  secretDelete: "secret.delete",
  secretVersions: "secret.versions",
  secretRollback: "secret.rollback",
  accessList: "access.list",
  accessApprove: "access.approve",
  accessDeny: "access.deny",
  tokenList: "token.list",
  tokenApprove: "token.approve",
  tokenDeny: "token.deny",
  tokenRevoke: "token.revoke",
  tokenExpire: "token.expire",
  accessExpire: "access.expire",
  adminLogin: "admin.login",
  adminLogout: "admin.logout",
  adminTokenCreate: "admin.token.create",
  adminTokenRevoke: "admin.token.revoke",
  keyRotate: "key.rotate",
  keyStatus: "key.status",
  /** Written by the audit service, not the vault: a signed digest of the trail's hash chain. */
  auditDigest: "audit.digest",
} as const;
export type AuditEventName = (typeof AuditEventName)[keyof typeof AuditEventName];

export const auditEventNames: readonly AuditEventName[] = Object.values(AuditEventName);

export function isAuditEventName(name: string): name is AuditEventName {
  return (auditEventNames as readonly string[]).includes(name);
}

/** The `service` field of every line: the specification's log format. */
export const auditServiceLabel = "secrets-service";

/**
 * The audit line in the specification's log format (snake_case, ISO-8601 timestamp), extended with the
 * event name, its id, the reason, the request id, the secret's name, the acting admin and the target id.
 * This is what Loki and the file journal store. It never holds a value or a token: events do not carry
 * them in the first place.
 */
export function auditLogLine(event: AuditEvent): string {
  return JSON.stringify({
    timestamp: new Date(event.timestampMs).toISOString(),
    level: event.level,
    service: auditServiceLabel,
    event: event.event,
    event_id: event.id,
    success: event.success,
    reason: event.reason,
    secret_id: event.secretId,
    secret_name: event.secretName,
    service_name: event.serviceName,
    actor: event.actor,
    target_id: event.targetId,
    subject: event.subject,
    request_id: event.requestId,
    ip_address: event.ipAddress,
    user_agent: event.userAgent,
    // Only on summaries, so the line of a single call keeps the specification's fields.
    ...(event.refusedCalls > 0 ? { refused_calls: event.refusedCalls } : {}),
    ...chainFields(event),
  });
}

/**
 * The hash chain's fields (`@secrets/audit-chain`), last so that a line without them is the specification's
 * format: on a digest its range, last hash and signature; on a shipped event its position, and its link
 * once computed (the hashed bytes are the line without `prev_hash` and `hash`).
 */
function chainFields(event: AuditEvent): Record<string, string | number> {
  if (event.event === AuditEventName.auditDigest) {
    return {
      first_seq: event.digestFirstSeq,
      last_seq: event.chainSeq,
      last_hash: event.chainHash,
      ...(event.digestSignature !== "" ? { signature: event.digestSignature } : {}),
    };
  }
  if (event.chainSeq === 0) return {};
  return {
    seq: event.chainSeq,
    ...(event.chainHash !== "" ? { prev_hash: event.chainPrevHash, hash: event.chainHash } : {}),
  };
}
