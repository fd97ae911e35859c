/**
 * `auditOperations.verify`: the trail's hash chain and digests checked over a time range, read from
 * where it was shipped; and the public key that checks them (`key_only`), for the admin API to serve.
 */
import { parsePublicKey, verifyTrail } from "@secrets/audit-chain";
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
import type { AuditVerifyReply, AuditVerifyRequest } from "@secrets/proto/audit";
import { queryLimits } from "../query/audit-query.ts";
import type { TrailLineSource } from "./trail-lines.ts";

/** Most lines one verification reads (about 50 MB); a wider range answers `truncated`. */
export const maxVerifiedLines = 100_000;

export interface VerifyHandlerDeps {
  /** Undefined when events go nowhere readable (AUDIT_SINK=stdout without LOKI_URL). */
  source: TrailLineSource | undefined;
  publicKeyPem: string;
  logger: Logger;
  now?: () => number;
}

export function createVerifyHandler(deps: VerifyHandlerDeps) {
  const now = deps.now ?? Date.now;
  const publicKey = parsePublicKey(deps.publicKeyPem);
  return async (request: AuditVerifyRequest): Promise<AuditVerifyReply> => {
    const toMs = request.toMs > 0 ? request.toMs : now();
    const fromMs = request.fromMs > 0 ? request.fromMs : toMs - queryLimits.defaultRangeMs;
    const empty: AuditVerifyReply = {
      ok: true,
      problems: [],
      events: 0,
      firstSeq: 0,
      lastSeq: 0,
      validDigests: 0,
      signedThroughSeq: 0,
      fromMs,
      toMs,
      truncated: false,
      publicKey: deps.publicKeyPem,
    };
    if (request.keyOnly) return empty;
    if (fromMs > toMs || toMs - fromMs > queryLimits.maxRangeMs) {
      throw new BusError(ErrorCode.INVALID_ARGUMENT, "from_ms must be before to_ms, at most 30 days apart");
    }
    if (!deps.source) {
      throw new BusError(
        ErrorCode.FAILED_PRECONDITION,
        "Verifying the trail needs LOKI_URL or AUDIT_SINK=file",
      );
    }
    let read: Awaited<ReturnType<TrailLineSource["read"]>>;
    try {
      read = await deps.source.read(fromMs, toMs, maxVerifiedLines);
    } catch (error) {
      deps.logger.warn("audit trail could not be read for verification", { source: deps.source.name, error });
      if (error instanceof BusError) throw error;
      throw new BusError(ErrorCode.UNAVAILABLE, "The audit trail could not be read", { cause: error });
    }
    // Loki answers in time order, and positions before `from` are outside the range, not missing.
    const report = verifyTrail(read.lines, publicKey, { ordered: false, clipToRead: true });
    return {
      ...empty,
      ok: report.ok,
      problems: report.problems.map((problem) => ({
        kind: problem.kind,
        seq: problem.seq ?? 0,
        toSeq: problem.toSeq ?? 0,
        detail: problem.detail,
      })),
      events: report.events,
      firstSeq: report.firstSeq ?? 0,
      lastSeq: report.lastSeq ?? 0,
      validDigests: report.validDigests,
      signedThroughSeq: report.signedThroughSeq,
      truncated: read.truncated,
    };
  };
}

/** Serves `auditOperations.verify` in the audit queue group. */
export function serveAuditVerify(bus: Bus, deps: VerifyHandlerDeps): Subscription {
  return serve(bus, auditOperations.verify, { queue: auditQueue }, createVerifyHandler(deps));
}
