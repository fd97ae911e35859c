/**
 * Parking: where events go that the sink refuses for good (Loki's 400 for an entry older than its
 * retention window, a line over its size limit...). Parked events are appended, fsynced, to a JSONL file
 * and logged with their id; only then are they acknowledged. Never retried forever, never dropped
 * silently: an operator can fix and replay the file.
 */
import { auditLogLine } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { AuditEvent } from "@secrets/proto/audit";
import { appendDurably } from "../sinks/append-durably.ts";

export interface ParkItem {
  /** Stream sequence, for the operator. */
  seq: number;
  /** The event, or undefined when its payload could not be decoded. */
  event: AuditEvent | undefined;
  /** The raw payload, kept (base64) only when it could not be decoded. */
  payload: Uint8Array;
  reason: string;
}

export interface Parking {
  /** Stores the items durably and logs each; rejects when they could not be stored. */
  park(items: readonly ParkItem[]): Promise<void>;
  /** Events parked so far (the file's lines at start-up, plus what this process parked). */
  readonly count: number;
}

/** The JSON line of a parked item: the audit line's fields plus when and why it was parked. */
export function parkedLine(item: ParkItem, parkedAtMs: number): string {
  const base = item.event
    ? (JSON.parse(auditLogLine(item.event)) as Record<string, unknown>)
    : { payload_base64: Buffer.from(item.payload).toString("base64") };
  return JSON.stringify({
    ...base,
    parked_at: new Date(parkedAtMs).toISOString(),
    park_reason: item.reason,
    stream_seq: item.seq,
  });
}

async function countLines(path: string): Promise<number> {
  const file = Bun.file(path);
  if (!(await file.exists())) return 0;
  let count = 0;
  for await (const chunk of file.stream()) for (const byte of chunk) if (byte === 0x0a) count++;
  return count;
}

/** Parking in a JSONL file (AUDIT_PARK_FILE). */
export async function openParkFile(
  path: string,
  logger: Logger,
  now: () => number = Date.now,
): Promise<Parking> {
  let count = await countLines(path);
  return {
    get count() {
      return count;
    },
    async park(items) {
      if (items.length === 0) return;
      const at = now();
      await appendDurably(path, items.map((item) => `${parkedLine(item, at)}\n`).join(""));
      count += items.length;
      for (const item of items) {
        logger.error("audit event parked: the sink refused it for good", {
          eventId: item.event?.id ?? "",
          event: item.event?.event ?? "",
          seq: item.seq,
          reason: item.reason,
          parkFile: path,
        });
      }
    },
  };
}
