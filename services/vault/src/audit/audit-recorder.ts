import {
  type AuditEventName,
  auditEventsTopic,
  type Bus,
  BusError,
  ErrorCode,
  publishDurable,
  Reason,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { clip } from "@secrets/validation";

/** What a workflow knows about an outcome; the recorder adds the id, the time and the level. */
export interface AuditFacts {
  event: AuditEventName;
  success: boolean;
  /** Reason or error-code name of a refusal; empty on success. */
  reason?: string;
  /** Overrides the level derived from `success` ("error" for failures of the vault itself). */
  level?: "info" | "warn" | "error";
  secretId?: string;
  secretName?: string;
  serviceName?: string;
  actor?: string;
  targetId?: string;
  subject?: string;
  requestId?: string;
  ipAddress?: string;
  userAgent?: string;
  /** Calls a summary stands for (`calls.throttled`). */
  refusedCalls?: number;
}

export interface AuditRecorderDeps {
  bus: Bus;
  logger: Logger;
  /** Longest wait for the stream's acknowledgement. */
  timeoutMs: number;
  now?: () => number;
  newId?: () => string;
}

/** Fields of a refused request may hold whatever the caller sent; the audit keeps a bounded prefix. */
const maxFieldLength = 256;
const clipField = (text: string | undefined) => clip(text ?? "", maxFieldLength);

export const auditUnavailable = () =>
  new BusError(ErrorCode.UNAVAILABLE, "The audit trail is unavailable, so the request was refused", {
    reason: Reason.AUDIT_UNAVAILABLE,
  });

/**
 * Builds audit events and publishes them to the durable audit stream. `record` resolves only once the
 * stream has stored the event: the fail-closed rule that a value never leaves the vault unaudited.
 */
export function createAuditRecorder(deps: AuditRecorderDeps) {
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? (() => Bun.randomUUIDv7());

  function build(facts: AuditFacts): AuditEvent {
    return AuditEvent.fromPartial({
      id: newId(),
      timestampMs: now(),
      level: facts.level ?? (facts.success ? "info" : "warn"),
      event: facts.event,
      success: facts.success,
      reason: clipField(facts.reason),
      secretId: clipField(facts.secretId),
      secretName: clipField(facts.secretName),
      serviceName: clipField(facts.serviceName),
      actor: clipField(facts.actor),
      targetId: clipField(facts.targetId),
      subject: clipField(facts.subject),
      requestId: clipField(facts.requestId),
      ipAddress: clipField(facts.ipAddress),
      userAgent: clipField(facts.userAgent),
      refusedCalls: facts.refusedCalls ?? 0,
    });
  }

  /** Publishes an already built event; throws AUDIT_UNAVAILABLE unless the stream stored it. */
  async function publish(event: AuditEvent): Promise<void> {
    try {
      await publishDurable(deps.bus, auditEventsTopic, event, { msgId: event.id, timeoutMs: deps.timeoutMs });
    } catch (error) {
      deps.logger.error("audit stream did not store an event", {
        eventId: event.id,
        event: event.event,
        error,
      });
      throw auditUnavailable();
    }
  }

  return {
    build,
    publish,
    /** Builds, publishes and waits for the stream's acknowledgement. */
    async record(facts: AuditFacts): Promise<AuditEvent> {
      const event = build(facts);
      await publish(event);
      return event;
    },
  };
}

export type AuditRecorder = ReturnType<typeof createAuditRecorder>;

/** The reason an error is recorded under: its Reason name, else its code name. */
export function refusalReason(error: BusError): string {
  return error.reason !== Reason.UNSPECIFIED ? (Reason[error.reason] ?? "") : (ErrorCode[error.code] ?? "");
}
