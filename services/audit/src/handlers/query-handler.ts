import {
  auditOperations,
  auditQueue,
  type Bus,
  BusError,
  ErrorCode,
  type Subscription,
  serve,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { AuditQueryReply, AuditQueryRequest } from "@secrets/proto/audit";
import { auditQueryFromRequest } from "../query/audit-query.ts";
import type { AuditQueryBackend } from "../query/query-backend.ts";

export interface QueryHandlerDeps {
  /** Undefined when events go nowhere queryable (AUDIT_SINK=stdout without LOKI_URL). */
  backend: AuditQueryBackend | undefined;
  logger: Logger;
  now?: () => number;
}

/** Answers one audit query: checks it, asks the backend, returns events newest first. */
export function createQueryHandler(deps: QueryHandlerDeps) {
  const now = deps.now ?? Date.now;
  return async (request: AuditQueryRequest): Promise<AuditQueryReply> => {
    const query = auditQueryFromRequest(request, now());
    if (!deps.backend) {
      throw new BusError(
        ErrorCode.FAILED_PRECONDITION,
        "Audit queries need LOKI_URL or AUDIT_SINK=file on the audit service",
      );
    }
    try {
      return { events: await deps.backend.query(query) };
    } catch (error) {
      deps.logger.warn("audit query failed", { backend: deps.backend.name, error });
      if (error instanceof BusError) throw error;
      throw new BusError(ErrorCode.UNAVAILABLE, "The audit trail could not be queried", { cause: error });
    }
  };
}

/** Serves `auditOperations.query` in the audit queue group. */
export function serveAuditQueries(bus: Bus, deps: QueryHandlerDeps): Subscription {
  return serve(bus, auditOperations.query, { queue: auditQueue }, createQueryHandler(deps));
}
