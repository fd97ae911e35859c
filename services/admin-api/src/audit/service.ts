/** The audit trail over the bus: the audit service answers from Loki (or the embedded mode's journal). */
import { auditOperations, isAuditEventName } from "@secrets/bus";
import type { AuditEvent } from "@secrets/proto/audit";
import { apiErrors } from "../http/api-error.ts";
import { iso, maxPageSize, orNull, pageSize } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import { type AuditCursor, decodeAuditCursor, encodeAuditCursor, maxSkippedIds } from "./audit-cursor.ts";
import type {
  AuditEventList,
  AuditEventView,
  AuditQuery,
  AuditSigningKey,
  AuditVerification,
  AuditVerifyQuery,
} from "./model.ts";

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

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw apiErrors.invalid([{ field, message: "must be an ISO-8601 date-time" }]);
  return ms;
}

/** The window when the query names no start: the 24 hours before its end, as the audit service does. */
const defaultRangeMs = 24 * 60 * 60 * 1000;

export function createAuditService(deps: { audit: VaultClient; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    async query(query: AuditQuery): Promise<AuditEventList> {
      if (query.event !== undefined && !isAuditEventName(query.event)) {
        throw apiErrors.invalid([{ field: "event", message: "is not an audit event name" }]);
      }
      const cursor = query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor);
      const limit = pageSize(query.limit);
      // A cursor continues its window; `from` and `to` shape the first page.
      const toMs = cursor?.toMs ?? time(query.to, "to") ?? now();
      const fromMs = cursor?.fromMs ?? time(query.from, "from") ?? Math.max(0, toMs - defaultRangeMs);
      if (fromMs > toMs) throw apiErrors.invalid([{ field: "from", message: "must not be after `to`" }]);
      const skip = new Set(cursor?.skipIds ?? []);
      const asked = Math.min(maxPageSize, limit + skip.size);
      const reply = await deps.audit.call(auditOperations.query, {
        secret: query.secret ?? "",
        serviceName: query.service ?? "",
        event: query.event ?? "",
        success: query.outcome === undefined ? undefined : query.outcome === "success",
        // 0 asks the audit service for its own default; the window starts at 1 ms at the earliest.
        fromMs: Math.max(fromMs, 1),
        toMs,
        limit: asked,
      });
      const page = reply.events
        .filter((event) => !(event.timestampMs === toMs && skip.has(event.id)))
        .slice(0, limit);
      const oldest = page.at(-1);
      const more = reply.events.length >= asked && oldest !== undefined;
      return {
        events: page.map(eventView),
        nextCursor: more ? nextCursor(oldest, page, fromMs, cursor) : null,
      };
    },

    /** The audit service verifies the chain and digests over the range, reading where it shipped. */
    async verify(query: AuditVerifyQuery): Promise<AuditVerification> {
      const toMs = time(query.to, "to") ?? now();
      const fromMs = time(query.from, "from") ?? Math.max(1, toMs - defaultRangeMs);
      if (fromMs > toMs) throw apiErrors.invalid([{ field: "from", message: "must not be after `to`" }]);
      const reply = await deps.audit.call(auditOperations.verify, {
        fromMs: Math.max(fromMs, 1),
        toMs,
        keyOnly: false,
      });
      const position = (seq: number) => (seq > 0 ? seq : null);
      return {
        ok: reply.ok,
        from: iso(reply.fromMs),
        to: iso(reply.toMs),
        events: reply.events,
        firstSeq: position(reply.firstSeq),
        lastSeq: position(reply.lastSeq),
        validDigests: reply.validDigests,
        signedThroughSeq: position(reply.signedThroughSeq),
        truncated: reply.truncated,
        problems: reply.problems.map((problem) => ({
          kind: problem.kind as AuditVerification["problems"][number]["kind"],
          seq: position(problem.seq),
          toSeq: position(problem.toSeq),
          detail: problem.detail,
        })),
      };
    },

    async signingKey(): Promise<AuditSigningKey> {
      const reply = await deps.audit.call(auditOperations.verify, { fromMs: 0, toMs: 0, keyOnly: true });
      return { publicKey: reply.publicKey };
    },
  };
}

/** Where the page after `page` starts: at its oldest event's millisecond, skipping what was shown there. */
function nextCursor(
  oldest: AuditEvent,
  page: readonly AuditEvent[],
  fromMs: number,
  cursor: AuditCursor | undefined,
): string {
  const atOldest = page.filter((event) => event.timestampMs === oldest.timestampMs).map((event) => event.id);
  const carried = cursor && cursor.toMs === oldest.timestampMs ? cursor.skipIds : [];
  const skipIds = [...new Set([...carried, ...atOldest])];
  // A millisecond with more events than a cursor can carry is left behind rather than shown again.
  return encodeAuditCursor(
    skipIds.length > maxSkippedIds
      ? { toMs: Math.max(fromMs, oldest.timestampMs - 1), fromMs, skipIds: [] }
      : { toMs: oldest.timestampMs, fromMs, skipIds },
  );
}

export type AuditService = ReturnType<typeof createAuditService>;
