/**
 * A fake audit service on the MemoryBus: answers `auditOperations.query` from a list of events, filtered
 * like the real one, and records each request.
 */
import { auditOperations, auditQueue, type Bus, serve } from "@secrets/bus";
import { AuditEvent, type AuditQueryRequest } from "@secrets/proto/audit";

export function createFakeAudit() {
  const events: AuditEvent[] = [];
  const requests: AuditQueryRequest[] = [];
  return {
    events,
    requests,
    add(fields: Partial<AuditEvent>): AuditEvent {
      const event = AuditEvent.fromPartial({
        id: crypto.randomUUID(),
        timestampMs: Date.now(),
        level: "info",
        ...fields,
      });
      events.push(event);
      return event;
    },
    serve(bus: Bus) {
      return serve(bus, auditOperations.query, { queue: auditQueue }, async (request) => {
        requests.push(request);
        const matches = events.filter(
          (e) =>
            (!request.secret || e.secretName === request.secret || e.secretId === request.secret) &&
            (!request.serviceName || e.serviceName === request.serviceName) &&
            (!request.event || e.event === request.event) &&
            (request.success === undefined || e.success === request.success) &&
            e.timestampMs >= request.fromMs &&
            e.timestampMs <= request.toMs,
        );
        return {
          events: matches.sort((a, b) => b.timestampMs - a.timestampMs).slice(0, request.limit || 100),
        };
      });
    },
  };
}
