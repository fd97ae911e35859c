import { BusError, ErrorCode } from "@secrets/bus";
import { auditEventFromLine } from "./audit-line.ts";
import { matchesAuditQuery } from "./audit-query.ts";
import { type AuditQueryBackend, newestEvents } from "./query-backend.ts";

/** Yields the lines of a file as it streams it, without holding the whole file in memory. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Bun.file(path).stream()) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered !== "") yield buffered;
}

/**
 * Queries the JSONL journal (`AUDIT_SINK=file`, and the embedded mode's journal): reads it line by line,
 * filters in memory, keeps the newest matches. A line written twice (a retried batch) counts once.
 */
export function createFileQueryBackend(path: string): AuditQueryBackend {
  return {
    name: "file",
    async query(query) {
      const collector = newestEvents(query.limit);
      if (!(await Bun.file(path).exists())) return [];
      try {
        for await (const line of readLines(path)) {
          const event = auditEventFromLine(line);
          if (event && matchesAuditQuery(event, query)) collector.add(event);
        }
      } catch (cause) {
        throw new BusError(ErrorCode.UNAVAILABLE, "The audit journal could not be read", { cause });
      }
      return collector.result();
    },
  };
}
