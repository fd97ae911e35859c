/**
 * Finding the chain's hash at one position in what was already shipped. A shipper that continues the
 * chain without its predecessor's checkpoint (another host, a fresh data directory) asks for the
 * position before the first one it sees: with that hash it links a redelivered batch exactly as its
 * predecessor did, so the lines are identical and Loki keeps one copy.
 */
import { auditSelector, logqlString } from "../loki/logql.ts";
import type { LokiConnection } from "../loki/loki-connection.ts";
import { lokiTimestamp } from "../loki/loki-push.ts";
import { lokiQueryRange } from "../loki/loki-query-backend.ts";
import { readLines } from "../query/file-query-backend.ts";

/** The hash at `seq`, or undefined when the store does not hold that position (or cannot tell). */
export type FindLink = (seq: number, nearMs: number) => Promise<string | undefined>;

function hashAt(line: string, seq: number): string | undefined {
  try {
    const record = JSON.parse(line) as { seq?: unknown; hash?: unknown; event?: unknown };
    return record.seq === seq && typeof record.hash === "string" ? record.hash : undefined;
  } catch {
    return undefined;
  }
}

/** How far before the next event's time the previous one is looked for (events relayed late included). */
const lookBehindMs = 24 * 60 * 60 * 1000;

export function lokiFindLink(connection: LokiConnection, environment: string): FindLink {
  return async (seq, nearMs) => {
    const fragment = `"seq":${seq},"prev_hash"`;
    try {
      const body = (await lokiQueryRange(connection, {
        logql: `${auditSelector(environment)} |= ${logqlString(fragment)}`,
        startNs: lokiTimestamp(nearMs - lookBehindMs),
        endNs: lokiTimestamp(Date.now() + 60_000),
        limit: 10,
        direction: "backward",
      })) as { data?: { result?: { values?: [string, string][] }[] } };
      for (const stream of body.data?.result ?? []) {
        for (const [, line] of stream.values ?? []) {
          const hash = hashAt(line, seq);
          if (hash) return hash;
        }
      }
    } catch {
      // Loki cannot tell now: the chain goes on without it (a copy Loki may keep twice, see the README).
    }
    return undefined;
  };
}

/** The journal of `AUDIT_SINK=file`: the last line at that position. */
export function fileFindLink(path: string): FindLink {
  return async (seq) => {
    if (!(await Bun.file(path).exists())) return undefined;
    let found: string | undefined;
    for await (const line of readLines(path)) found = hashAt(line, seq) ?? found;
    return found;
  };
}
