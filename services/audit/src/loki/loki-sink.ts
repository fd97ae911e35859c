import type { AuditEvent } from "@secrets/proto/audit";
import { AuditSinkName } from "../config.ts";
import { type AuditSink, clipReason, failureReason, type SinkOutcome } from "../sinks/sink.ts";
import { type LokiConnection, lokiEndpoint, lokiHeaders } from "./loki-connection.ts";
import { defaultMaxSpanMs, type LokiPushBody, lokiPushBody, lokiPushParts } from "./loki-push.ts";
import { createRefusalCheck } from "./loki-refusal-check.ts";

export interface LokiSinkOptions {
  connection: LokiConnection;
  /** The `env` label. */
  environment: string;
  /** Compress bodies with gzip (`Content-Encoding: gzip`). */
  gzip: boolean;
  /** Most line bytes in one push (LOKI_PUSH_MAX_BYTES); default 1 MiB. */
  maxPushBytes?: number;
  /** Longest time span of one push's entries; default 10 minutes. */
  maxSpanMs?: number;
}

/** Default LOKI_PUSH_MAX_BYTES: well inside Loki's 6 MB ingestion burst and its 4 MiB gRPC message. */
export const defaultMaxPushBytes = 1 << 20;

/**
 * Statuses that say nothing about the events themselves: overload (429), timeouts, and a Loki (or a
 * proxy) that refuses everyone alike because of its configuration (401, 403, 404). They are retried;
 * parking every event because of a wrong password would empty the audit trail into the park file.
 */
const retriedClientStatuses = new Set([401, 403, 404, 408, 429]);

/** What a request too large for Loki gets: 429 over the tenant's burst, 413, a 500 from gRPC's limit. */
const sizeSuspectStatus = (status: number) => status === 429 || status === 413 || status >= 500;

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Pushes batches to Loki, one stream per request. Accepted means Loki answered 204 (or 200): Loki's
 * push answers nothing else on success, and another 2xx is a proxy that cannot be trusted to have
 * delivered.
 */
export function createLokiSink(options: LokiSinkOptions): AuditSink {
  const { connection } = options;
  const fetcher = connection.fetch ?? fetch;
  const url = lokiEndpoint(connection, "/loki/api/v1/push");
  const limits = {
    maxBytes: options.maxPushBytes ?? defaultMaxPushBytes,
    maxSpanMs: options.maxSpanMs ?? defaultMaxSpanMs,
  };

  async function push(body: LokiPushBody): Promise<SinkOutcome> {
    const json = JSON.stringify(body);
    const headers: Record<string, string> = {
      ...lokiHeaders(connection),
      "Content-Type": "application/json",
    };
    if (options.gzip) headers["Content-Encoding"] = "gzip";
    let response: Response;
    try {
      response = await fetcher(url, {
        method: "POST",
        // Loki's credentials and the audit batch go to the configured URL only, never to a redirect's.
        redirect: "error",
        headers,
        body: options.gzip ? Bun.gzipSync(json) : json,
        signal: AbortSignal.timeout(connection.timeoutMs),
      });
    } catch (error) {
      return { status: "retry", reason: failureReason(error) };
    }
    const text = await response.text().catch(() => "");
    if (response.status === 204 || response.status === 200) return { status: "accepted" };
    const reason = clipReason(`Loki answered ${response.status}${text ? `: ${text.trim()}` : ""}`);
    if (response.status >= 500 || retriedClientStatuses.has(response.status) || response.status < 400) {
      const after = retryAfterMs(response);
      const mayBeTooLarge = sizeSuspectStatus(response.status);
      return after === undefined
        ? { status: "retry", reason, mayBeTooLarge }
        : { status: "retry", reason, retryAfterMs: after, mayBeTooLarge };
    }
    return { status: "refused", reason };
  }

  const parts = (events: readonly AuditEvent[]) => lokiPushParts(events, limits);

  /** Each part its own request: a refusal of any stream is seen, never hidden behind another's 204. */
  async function write(events: readonly AuditEvent[]): Promise<SinkOutcome> {
    for (const part of parts(events)) {
      const outcome = await push(lokiPushBody(part, options.environment));
      if (outcome.status !== "accepted") return outcome;
    }
    return { status: "accepted" };
  }

  const reconsider = createRefusalCheck({
    connection,
    environment: options.environment,
    push: (events, extraLabels) => push(lokiPushBody(events, options.environment, extraLabels)),
  });

  return { name: AuditSinkName.loki, write, parts, reconsider };
}
