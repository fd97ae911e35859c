/**
 * What happens to one event Loki refused as "too far behind" (over an hour older than its stream's
 * newest entry) or "too old" (over `reject_old_samples_max_age`), before it may be parked:
 *
 * 1. Loki may hold it already: a push it stored whose answer was lost, retried after newer entries of
 *    the stream arrived, is refused although nothing is missing. A query for the event's id settles it:
 *    found, the event counts as delivered (parking and replaying it would duplicate it).
 * 2. Not found and "too far behind": the event is late for its stream (an admin event the vault's
 *    outbox relayed after newer ones of its name), not for Loki. It goes to a stream of its own,
 *    labelled `late_hour` with the UTC hour of its time: all entries of such a stream lie within one
 *    hour, so none is ever too far behind another, and queries on the usual labels still find it.
 * 3. Otherwise it is refused for good and parked.
 */
import type { AuditEvent } from "@secrets/proto/audit";
import { failureReason, type SinkOutcome } from "../sinks/sink.ts";
import { eventByIdLogql } from "./logql.ts";
import type { LokiConnection } from "./loki-connection.ts";
import { lokiTimestamp, streamOf } from "./loki-push.ts";
import { lokiQueryRange } from "./loki-query-backend.ts";

const tooFarBehind = /entry too far behind/;
const tooOld = /timestamp too old/;

/** The label of a late event's own stream: its UTC hour, such as `2025-01-17T10`. */
export const lateHourLabel = "late_hour";
export const lateHour = (timestampMs: number) => new Date(timestampMs).toISOString().slice(0, 13);

export interface RefusalCheckDeps {
  connection: LokiConnection;
  environment: string;
  /** One push of `events` with extra stream labels. */
  push(events: readonly AuditEvent[], extraLabels: Record<string, string>): Promise<SinkOutcome>;
}

/** Whether Loki holds `event` (in any stream of its name); rejects when Loki cannot tell. */
export async function lokiHolds(
  connection: LokiConnection,
  environment: string,
  event: AuditEvent,
): Promise<boolean> {
  const body = (await lokiQueryRange(connection, {
    logql: eventByIdLogql(environment, streamOf(event), event.id),
    startNs: lokiTimestamp(event.timestampMs),
    endNs: lokiTimestamp(event.timestampMs + 1),
    limit: 1,
    direction: "forward",
  })) as { data?: { result?: { values?: unknown[] }[] } };
  return (body?.data?.result ?? []).some((stream) => (stream.values?.length ?? 0) > 0);
}

export function createRefusalCheck(deps: RefusalCheckDeps) {
  return async function reconsider(event: AuditEvent, refusal: string): Promise<SinkOutcome> {
    const behind = tooFarBehind.test(refusal);
    if (!behind && !tooOld.test(refusal)) return { status: "refused", reason: refusal };
    try {
      if (await lokiHolds(deps.connection, deps.environment, event)) return { status: "accepted" };
    } catch (error) {
      return {
        status: "retry",
        reason: `could not ask Loki whether it holds the event: ${failureReason(error)}`,
      };
    }
    if (!behind) return { status: "refused", reason: refusal };
    const late = await deps.push([event], { [lateHourLabel]: lateHour(event.timestampMs) });
    return late.status === "refused"
      ? { status: "refused", reason: `${refusal}; late stream: ${late.reason}` }
      : late;
  };
}
