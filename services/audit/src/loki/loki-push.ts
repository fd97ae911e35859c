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

/** What bounds one push (see `lokiPushParts`). */
export interface PushPartLimits {
  /** Most bytes of lines (plus a little per entry) in one push. */
  maxBytes: number;
  /** Longest time between a part's oldest and newest entry. */
  maxSpanMs: number;
}

/**
 * The default span: a part stored by Loki but retried (its answer lost) is still within Loki's
 * out-of-order window of one hour behind its own newest entry, so the retry is accepted as a duplicate
 * instead of refused as "too far behind".
 */
export const defaultMaxSpanMs = 10 * 60_000;

/** Bytes an entry adds to a push: its line, its timestamp and the JSON around them. */
export function entryBytes(event: AuditEvent): number {
  return Buffer.byteLength(auditLogLine(event)) + 32;
}

/** The stream (event name) an event goes to. */
export const streamOf = (event: AuditEvent) => event.event || "unknown";

/**
 * Splits events into the parts pushed one request each: one stream per part (Loki's ingester answers
 * with only the last stream's error, so a refusal of an earlier stream would be lost in a 204), each in
 * time order, within `maxSpanMs` and `maxBytes` (an event over the byte cap alone is a part of its own).
 * Parts come stream by stream in order of first appearance, each stream's parts oldest first.
 */
export function lokiPushParts(events: readonly AuditEvent[], limits: PushPartLimits): AuditEvent[][] {
  const byStream = new Map<string, AuditEvent[]>();
  for (const event of events) {
    const group = byStream.get(streamOf(event));
    if (group) group.push(event);
    else byStream.set(streamOf(event), [event]);
  }
  const parts: AuditEvent[][] = [];
  for (const group of byStream.values()) {
    let part: AuditEvent[] = [];
    let bytes = 0;
    for (const event of inTimeOrder(group)) {
      const size = entryBytes(event);
      const first = part[0];
      if (
        first &&
        (bytes + size > limits.maxBytes || event.timestampMs - first.timestampMs > limits.maxSpanMs)
      ) {
        parts.push(part);
        part = [];
        bytes = 0;
      }
      part.push(event);
      bytes += size;
    }
    if (part.length > 0) parts.push(part);
  }
  return parts;
}

function inTimeOrder(events: readonly AuditEvent[]): AuditEvent[] {
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => a.event.timestampMs - b.event.timestampMs || a.index - b.index)
    .map(({ event }) => event);
}

/** Groups events into one stream per event name, each stream's entries in time order (stable). */
export function lokiPushBody(
  events: readonly AuditEvent[],
  environment: string,
  extraLabels: Record<string, string> = {},
): LokiPushBody {
  const byEvent = new Map<string, AuditEvent[]>();
  for (const event of events) {
    const name = streamOf(event);
    const group = byEvent.get(name);
    if (group) group.push(event);
    else byEvent.set(name, [event]);
  }
  return {
    streams: [...byEvent].map(([name, group]) => ({
      stream: { ...staticLabels(environment), event: name, ...extraLabels },
      values: inTimeOrder(group).map(
        (event) => [lokiTimestamp(event.timestampMs), auditLogLine(event)] as [string, string],
      ),
    })),
  };
}
