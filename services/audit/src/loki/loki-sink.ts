import type { AuditEvent } from "@secrets/proto/audit";
import { AuditSinkName } from "../config.ts";
import { type AuditSink, clip, failureReason, type SinkOutcome } from "../sinks/sink.ts";
import { type LokiConnection, lokiEndpoint, lokiHeaders } from "./loki-connection.ts";
import { lokiPushBody } from "./loki-push.ts";

export interface LokiSinkOptions {
  connection: LokiConnection;
  /** The `env` label. */
  environment: string;
  /** Compress bodies with gzip (`Content-Encoding: gzip`). */
  gzip: boolean;
}

/**
 * Statuses that say nothing about the events themselves: overload (429), timeouts, and a Loki (or a
 * proxy) that refuses everyone alike because of its configuration (401, 403, 404). They are retried;
 * parking every event because of a wrong password would empty the audit trail into the park file.
 */
const retriedClientStatuses = new Set([401, 403, 404, 408, 429]);

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Pushes batches to Loki. Accepted means Loki answered 2xx. */
export function createLokiSink(options: LokiSinkOptions): AuditSink {
  const { connection } = options;
  const fetcher = connection.fetch ?? fetch;
  const url = lokiEndpoint(connection, "/loki/api/v1/push");

  async function push(events: readonly AuditEvent[]): Promise<SinkOutcome> {
    const json = JSON.stringify(lokiPushBody(events, options.environment));
    const headers: Record<string, string> = {
      ...lokiHeaders(connection),
      "Content-Type": "application/json",
    };
    if (options.gzip) headers["Content-Encoding"] = "gzip";
    let response: Response;
    try {
      response = await fetcher(url, {
        method: "POST",
        headers,
        body: options.gzip ? Bun.gzipSync(json) : json,
        signal: AbortSignal.timeout(connection.timeoutMs),
      });
    } catch (error) {
      return { status: "retry", reason: failureReason(error) };
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return { status: "accepted" };
    const reason = clip(`Loki answered ${response.status}${text ? `: ${text.trim()}` : ""}`);
    if (response.status >= 500 || retriedClientStatuses.has(response.status)) {
      const after = retryAfterMs(response);
      return after === undefined
        ? { status: "retry", reason }
        : { status: "retry", reason, retryAfterMs: after };
    }
    return { status: "refused", reason };
  }

  return {
    name: AuditSinkName.loki,
    write: (events) => (events.length === 0 ? Promise.resolve({ status: "accepted" }) : push(events)),
  };
}
