/**
 * Where `auditOperations.verify` reads the raw trail from: the lines exactly as stored (the verifier
 * hashes their bytes, so events decoded and re-encoded would not do), within a time range, at most
 * `maxLines` of them.
 */
import { auditSelector } from "../loki/logql.ts";
import type { LokiConnection } from "../loki/loki-connection.ts";
import { lokiTimestamp } from "../loki/loki-push.ts";
import { lokiQueryRange } from "../loki/loki-query-backend.ts";
import { readLines } from "../query/file-query-backend.ts";

export interface TrailLines {
  lines: string[];
  /** More lines lay in the range than were read. */
  truncated: boolean;
}

export interface TrailLineSource {
  readonly name: string;
  /** Rejects with a BusError (UNAVAILABLE) when the store does not answer. */
  read(fromMs: number, toMs: number, maxLines: number): Promise<TrailLines>;
}

function lineTimeMs(line: string): number | undefined {
  try {
    const time = (JSON.parse(line) as { timestamp?: unknown }).timestamp;
    return typeof time === "string" ? Date.parse(time) : undefined;
  } catch {
    return undefined;
  }
}

/** The JSONL journal (`AUDIT_SINK=file`), in file order; an undatable line is kept (the verifier flags it). */
export function fileTrailLines(path: string): TrailLineSource {
  return {
    name: "file",
    async read(fromMs, toMs, maxLines) {
      const lines: string[] = [];
      if (!(await Bun.file(path).exists())) return { lines, truncated: false };
      for await (const line of readLines(path)) {
        const at = lineTimeMs(line);
        if (at !== undefined && (at < fromMs || at > toMs)) continue;
        if (lines.length >= maxLines) return { lines, truncated: true };
        lines.push(line);
      }
      return { lines, truncated: false };
    },
  };
}

interface StreamsAnswer {
  data?: { result?: { values?: [string, string][] }[] };
}

/** Loki, every stream of this environment, oldest first, page by page (`query_range` forward). */
export function lokiTrailLines(options: {
  connection: LokiConnection;
  environment: string;
  pageSize?: number;
}): TrailLineSource {
  const pageSize = options.pageSize ?? 5_000;
  return {
    name: "loki",
    async read(fromMs, toMs, maxLines) {
      const lines: string[] = [];
      const endNs = BigInt(lokiTimestamp(toMs + 1));
      let startNs = BigInt(lokiTimestamp(fromMs));
      let limit = pageSize;
      while (startNs < endNs) {
        const body = (await lokiQueryRange(options.connection, {
          logql: auditSelector(options.environment),
          startNs: startNs.toString(),
          endNs: endNs.toString(),
          limit,
          direction: "forward",
        })) as StreamsAnswer;
        const entries = (body.data?.result ?? []).flatMap((stream) => stream.values ?? []);
        entries.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0));
        const full = entries.length >= limit;
        const newest = BigInt(entries[entries.length - 1]?.[0] ?? startNs.toString());
        if (full && newest === startNs) {
          // A whole page within one nanosecond: ask again for more (Loki caps this at its
          // max_entries_limit_per_query, 5000 by default, and then refuses: a failure, never a gap).
          limit *= 2;
          continue;
        }
        // The next page starts at the newest time read, whose entries may have been cut: those read
        // already come again, but only the ones strictly before it are kept now.
        for (const [time, line] of entries) {
          if (full && BigInt(time) === newest) break;
          if (lines.length >= maxLines) return { lines, truncated: true };
          lines.push(line);
        }
        if (!full) break;
        startNs = newest;
        limit = pageSize;
      }
      return { lines, truncated: false };
    },
  };
}
