/**
 * The body of Loki's push API (`POST /loki/api/v1/push`, JSON):
 * `{ "streams": [ { "stream": { labels }, "values": [ [ "<ns since epoch>", "<line>" ], ... ] } ] }`.
 *
 * Labels are few and static so Loki's index stays small: `service`, `event` (a closed set of names) and
 * `env`. Everything else, the event id included, is in the line, which is `auditLogLine(event)`.
 * Timestamps come from the event, so a redelivered event yields the identical (stream, timestamp, line)
 * and Loki keeps one copy.
 */
import { auditLogLine, auditServiceLabel } from "@secrets/bus";
import type { AuditEvent } from "@secrets/proto/audit";

export interface LokiStream {
  stream: Record<string, string>;
  values: [string, string][];
}

export interface LokiPushBody {
  streams: LokiStream[];
}

/** The labels every stream carries besides `event`. */
export function staticLabels(environment: string): Record<string, string> {
  return { service: auditServiceLabel, env: environment };
}

/** Milliseconds since the epoch as Loki's nanosecond string, exactly (no floating point). */
export function lokiTimestamp(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

/** Groups events into one stream per event name, each stream's entries in time order (stable). */
export function lokiPushBody(events: readonly AuditEvent[], environment: string): LokiPushBody {
  const byEvent = new Map<string, AuditEvent[]>();
  for (const event of events) {
    const name = event.event || "unknown";
    const group = byEvent.get(name);
    if (group) group.push(event);
    else byEvent.set(name, [event]);
  }
  return {
    streams: [...byEvent].map(([name, group]) => ({
      stream: { ...staticLabels(environment), event: name },
      values: group
        .map((event, index) => ({ event, index }))
        .sort((a, b) => a.event.timestampMs - b.event.timestampMs || a.index - b.index)
        .map(({ event }) => [lokiTimestamp(event.timestampMs), auditLogLine(event)] as [string, string]),
    })),
  };
}
