import { BusError, ErrorCode } from "@secrets/bus";
import type { AuditEvent } from "@secrets/proto/audit";
import { auditEventFromLine } from "../query/audit-line.ts";
import type { AuditQuery } from "../query/audit-query.ts";
import { type AuditQueryBackend, newestEvents } from "../query/query-backend.ts";
import { auditLogql } from "./logql.ts";
import { type LokiConnection, lokiEndpoint, lokiHeaders } from "./loki-connection.ts";
import { lokiTimestamp } from "./loki-push.ts";

/** The part of Loki's `query_range` answer for log queries that this backend reads. */
interface StreamsResponse {
  status?: string;
  data?: { resultType?: string; result?: { stream?: Record<string, string>; values?: [string, string][] }[] };
}

/** Reads Loki's streams answer back into events (newest first, each id once, at most `limit`). */
export function eventsFromStreamsResponse(body: unknown, limit: number): AuditEvent[] {
  const response = body as StreamsResponse;
  if (response?.status !== "success" || response.data?.resultType !== "streams") {
    throw new Error("Loki's answer is not a streams result");
  }
  const collector = newestEvents(limit);
  for (const stream of response.data.result ?? []) {
    for (const value of stream.values ?? []) {
      const event = auditEventFromLine(value[1]);
      if (event) collector.add(event);
    }
  }
  return collector.result();
}

/** One `query_range` request; rejects with a BusError (UNAVAILABLE) when Loki does not answer well. */
export async function lokiQueryRange(
  connection: LokiConnection,
  params: { logql: string; startNs: string; endNs: string; limit: number; direction: "backward" | "forward" },
): Promise<unknown> {
  const fetcher = connection.fetch ?? fetch;
  const url = lokiEndpoint(connection, "/loki/api/v1/query_range");
  url.searchParams.set("query", params.logql);
  url.searchParams.set("start", params.startNs);
  url.searchParams.set("end", params.endNs);
  url.searchParams.set("limit", String(params.limit));
  url.searchParams.set("direction", params.direction);
  let response: Response;
  try {
    response = await fetcher(url, {
      // Loki's credentials go with the request: never to wherever a redirect points.
      redirect: "error",
      headers: lokiHeaders(connection),
      signal: AbortSignal.timeout(connection.timeoutMs),
    });
  } catch (cause) {
    throw new BusError(ErrorCode.UNAVAILABLE, "Loki did not answer the audit query", { cause });
  }
  if (!response.ok) {
    const detail = (await response.text().catch(() => "")).slice(0, 300);
    throw new BusError(ErrorCode.UNAVAILABLE, `Loki refused the audit query (HTTP ${response.status})`, {
      cause: new Error(detail),
    });
  }
  try {
    return await response.json();
  } catch (cause) {
    throw new BusError(ErrorCode.UNAVAILABLE, "Loki's answer to the audit query was unreadable", { cause });
  }
}

/** Answers audit queries with `GET /loki/api/v1/query_range` (direction backward: newest first). */
export function createLokiQueryBackend(options: {
  connection: LokiConnection;
  environment: string;
}): AuditQueryBackend {
  async function query(query: AuditQuery): Promise<AuditEvent[]> {
    const body = await lokiQueryRange(options.connection, {
      logql: auditLogql(query, options.environment),
      startNs: lokiTimestamp(query.fromMs),
      // Loki's end is exclusive; the query's `toMs` is inclusive.
      endNs: lokiTimestamp(query.toMs + 1),
      limit: query.limit,
      direction: "backward",
    });
    try {
      return eventsFromStreamsResponse(body, query.limit);
    } catch (cause) {
      throw new BusError(ErrorCode.UNAVAILABLE, "Loki's answer to the audit query was unreadable", { cause });
    }
  }

  return { name: "loki", query };
}
