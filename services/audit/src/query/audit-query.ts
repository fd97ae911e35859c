/**
 * An audit query, checked and with its defaults applied: what every query backend receives.
 */
import { invalidArgument, isAuditEventName } from "@secrets/bus";
import type { AuditQueryRequest } from "@secrets/proto/audit";
import { checkSecretName, checkServiceName, type Violation } from "@secrets/validation";

export const queryLimits = {
  defaultLimit: 100,
  maxLimit: 1_000,
  /** The window when `from_ms` is 0. */
  defaultRangeMs: 24 * 60 * 60 * 1000,
  /** The widest window (Loki's own default `max_query_length` is 30 days and 1 hour). */
  maxRangeMs: 30 * 24 * 60 * 60 * 1000,
} as const;

export interface AuditQuery {
  /** Filter on the secret's name... */
  secretName?: string;
  /** ...or, when the request's `secret` looks like a UUID, on its id. */
  secretId?: string;
  serviceName?: string;
  event?: string;
  success?: boolean;
  /** Inclusive, ms since the epoch. */
  fromMs: number;
  /** Inclusive, ms since the epoch. */
  toMs: number;
  limit: number;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a request and applies the defaults (last 24 hours before `to_ms` or now; 100 events).
 * Throws INVALID_ARGUMENT naming every failing field.
 */
export function auditQueryFromRequest(request: AuditQueryRequest, nowMs: number): AuditQuery {
  const violations: Violation[] = [];
  const query: AuditQuery = { fromMs: 0, toMs: 0, limit: queryLimits.defaultLimit };

  if (request.secret !== "") {
    if (uuidPattern.test(request.secret)) query.secretId = request.secret.toLowerCase();
    else {
      const problems = checkSecretName(request.secret, "secret");
      if (problems.length > 0)
        violations.push({ field: "secret", description: "must be a secret's name or id" });
      else query.secretName = request.secret;
    }
  }
  if (request.serviceName !== "") {
    violations.push(...checkServiceName(request.serviceName, "service_name"));
    query.serviceName = request.serviceName;
  }
  if (request.event !== "") {
    if (isAuditEventName(request.event)) query.event = request.event;
    else violations.push({ field: "event", description: "must be an audit event name such as secret.get" });
  }
  if (request.success !== undefined) query.success = request.success;

  if (request.limit < 0 || request.limit > queryLimits.maxLimit) {
    violations.push({
      field: "limit",
      description: `must be between 0 (${queryLimits.defaultLimit}) and ${queryLimits.maxLimit}`,
    });
  } else if (request.limit > 0) query.limit = request.limit;

  if (request.fromMs < 0) violations.push({ field: "from_ms", description: "must not be negative" });
  if (request.toMs < 0) violations.push({ field: "to_ms", description: "must not be negative" });
  query.toMs = request.toMs > 0 ? request.toMs : nowMs;
  query.fromMs = request.fromMs > 0 ? request.fromMs : query.toMs - queryLimits.defaultRangeMs;
  if (query.fromMs > query.toMs) {
    violations.push({ field: "from_ms", description: "must not be after to_ms" });
  } else if (query.toMs - query.fromMs > queryLimits.maxRangeMs) {
    violations.push({ field: "from_ms", description: "the range must not exceed 30 days" });
  }

  if (violations.length > 0) throw invalidArgument(violations);
  return query;
}

/** True when `event` passes every filter of the query (the file backend's filter). */
export function matchesAuditQuery(
  event: {
    timestampMs: number;
    secretId: string;
    secretName: string;
    serviceName: string;
    event: string;
    success: boolean;
  },
  query: AuditQuery,
): boolean {
  return (
    event.timestampMs >= query.fromMs &&
    event.timestampMs <= query.toMs &&
    (query.secretId === undefined || event.secretId.toLowerCase() === query.secretId) &&
    (query.secretName === undefined || event.secretName === query.secretName) &&
    (query.serviceName === undefined || event.serviceName === query.serviceName) &&
    (query.event === undefined || event.event === query.event) &&
    (query.success === undefined || event.success === query.success)
  );
}
