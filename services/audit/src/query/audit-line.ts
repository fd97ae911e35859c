import { AuditEvent } from "@secrets/proto/audit";

const text = (value: unknown) => (typeof value === "string" ? value : "");
const position = (value: unknown) => (typeof value === "number" && Number.isSafeInteger(value) ? value : 0);

/** The hash chain's fields of a line (see `auditLogLine`), so a queried event can be verified again. */
function chainFieldsOf(record: Record<string, unknown>): Partial<AuditEvent> {
  if (record.event === "audit.digest") {
    return {
      digestFirstSeq: position(record.first_seq),
      chainSeq: position(record.last_seq),
      chainHash: text(record.last_hash),
      digestSignature: text(record.signature),
    };
  }
  return {
    chainSeq: position(record.seq),
    chainPrevHash: text(record.prev_hash),
    chainHash: text(record.hash),
  };
}

/**
 * Reads an audit line (`auditLogLine`'s snake_case JSON) back into an AuditEvent; undefined when the text
 * is not such a line.
 */
export function auditEventFromLine(line: string): AuditEvent | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof fields !== "object" || fields === null) return undefined;
  const record = fields as Record<string, unknown>;
  const id = text(record.event_id);
  const timestampMs = Date.parse(text(record.timestamp));
  if (id === "" || Number.isNaN(timestampMs)) return undefined;
  return AuditEvent.fromPartial({
    id,
    timestampMs,
    level: text(record.level),
    event: text(record.event),
    success: record.success === true,
    reason: text(record.reason),
    secretId: text(record.secret_id),
    secretName: text(record.secret_name),
    serviceName: text(record.service_name),
    actor: text(record.actor),
    requestId: text(record.request_id),
    ipAddress: text(record.ip_address),
    userAgent: text(record.user_agent),
    targetId: text(record.target_id),
    subject: text(record.subject),
    refusedCalls:
      typeof record.refused_calls === "number" && Number.isInteger(record.refused_calls)
        ? record.refused_calls
        : 0,
    ...chainFieldsOf(record),
  });
}
