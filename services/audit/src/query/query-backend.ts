import type { AuditEvent } from "@secrets/proto/audit";
import type { AuditQuery } from "./audit-query.ts";

/** Answers audit queries from wherever events were shipped (Loki, or the JSONL journal). */
export interface AuditQueryBackend {
  readonly name: string;
  /** Matching events, newest first, at most `query.limit`. Rejects with a BusError (UNAVAILABLE). */
  query(query: AuditQuery): Promise<AuditEvent[]>;
}

/**
 * Keeps the newest `limit` events, each id once: a bounded collector for backends that see events in
 * no particular order.
 */
export function newestEvents(limit: number) {
  const byId = new Map<string, AuditEvent>();
  let oldestKeptMs = Number.NEGATIVE_INFINITY;
  const trim = () => {
    const kept = [...byId.values()].sort(newestFirst).slice(0, limit);
    byId.clear();
    for (const event of kept) byId.set(event.id, event);
    oldestKeptMs = kept.length >= limit ? (kept[kept.length - 1]?.timestampMs ?? oldestKeptMs) : oldestKeptMs;
  };
  return {
    add(event: AuditEvent): void {
      if (byId.size >= limit && event.timestampMs < oldestKeptMs) return;
      byId.set(event.id, event);
      if (byId.size >= 2 * limit) trim();
    },
    result(): AuditEvent[] {
      trim();
      return [...byId.values()];
    },
  };
}

/** Newest first; the id (a UUIDv7, time-ordered) breaks ties. */
export function newestFirst(a: AuditEvent, b: AuditEvent): number {
  return b.timestampMs - a.timestampMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
