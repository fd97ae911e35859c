/** The audit trail over the bus: the audit service answers from Loki (or the embedded mode's journal). */
import { auditOperations, isAuditEventName } from "@secrets/bus";
import type { AuditEvent } from "@secrets/proto/audit";
import { apiErrors } from "../http/api-error.ts";
import { iso, orNull, pageSize } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type { AuditEventList, AuditEventView, AuditQuery } from "./model.ts";

function eventView(event: AuditEvent): AuditEventView {
  return {
    id: event.id,
    timestamp: iso(event.timestampMs),
    level: event.level,
    event: event.event,
    success: event.success,
    reason: orNull(event.reason),
    secretId: orNull(event.secretId),
    secretName: orNull(event.secretName),
    serviceName: orNull(event.serviceName),
    actor: orNull(event.actor),
    targetId: orNull(event.targetId),
    subject: orNull(event.subject),
    requestId: orNull(event.requestId),
    ipAddress: orNull(event.ipAddress),
    userAgent: orNull(event.userAgent),
  };
}

function time(value: string | undefined, field: string): number {
  if (value === undefined) return 0;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw apiErrors.invalid([{ field, message: "must be an ISO-8601 date-time" }]);
  return ms;
}

export function createAuditService(deps: { audit: VaultClient }) {
  return {
    async query(query: AuditQuery): Promise<AuditEventList> {
      if (query.event !== undefined && !isAuditEventName(query.event)) {
        throw apiErrors.invalid([{ field: "event", message: "is not an audit event name" }]);
      }
      const fromMs = time(query.from, "from");
      const toMs = time(query.to, "to");
      if (fromMs && toMs && fromMs > toMs)
        throw apiErrors.invalid([{ field: "from", message: "must not be after `to`" }]);
      const reply = await deps.audit.call(auditOperations.query, {
        secret: query.secret ?? "",
        serviceName: query.service ?? "",
        event: query.event ?? "",
        success: query.outcome === undefined ? undefined : query.outcome === "success",
        fromMs,
        toMs,
        limit: pageSize(query.limit),
      });
      return { events: reply.events.map(eventView) };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
