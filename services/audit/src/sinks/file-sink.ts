import { auditLogLine } from "@secrets/bus";
import { AuditSinkName } from "../config.ts";
import { appendDurably } from "./append-durably.ts";
import { type AuditSink, failureReason } from "./sink.ts";

/**
 * The JSONL journal: one `auditLogLine` per event, appended and fsynced before the events are
 * acknowledged. The same format as the embedded mode's journal, and what the file query backend reads.
 * A retried batch may append a line twice; readers de-duplicate by `event_id`.
 */
export function createFileSink(path: string): AuditSink {
  return {
    name: AuditSinkName.file,
    async write(events) {
      if (events.length === 0) return { status: "accepted" };
      try {
        await appendDurably(path, events.map((event) => `${auditLogLine(event)}\n`).join(""));
        return { status: "accepted" };
      } catch (error) {
        return { status: "retry", reason: failureReason(error) };
      }
    },
  };
}
