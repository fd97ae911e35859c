/**
 * A fake audit service on the MemoryBus: answers `auditOperations.query` from a list of events, filtered
 * like the real one, and records each request; answers `auditOperations.verify` with `verification`.
 */
import { auditOperations, auditQueue, type Bus, serve } from "@secrets/bus";
import {
  AuditEvent,
  type AuditQueryRequest,
  AuditVerifyReply,
  type AuditVerifyRequest,
} from "@secrets/proto/audit";

export function createFakeAudit() {
  const events: AuditEvent[] = [];
  const requests: AuditQueryRequest[] = [];
  const verifyRequests: AuditVerifyRequest[] = [];
  const fake = {
    events,
    requests,
    verifyRequests,
    verification: AuditVerifyReply.fromPartial({ ok: true, publicKey: "-----BEGIN PUBLIC KEY-----\nfake\n" }),
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
      serve(bus, auditOperations.verify, { queue: auditQueue }, async (request) => {
        verifyRequests.push(request);
        return { ...fake.verification, fromMs: request.fromMs, toMs: request.toMs };
      });
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
  return fake;
}
