import type { AuditConfig } from "../config.ts";
import type { LokiConnection } from "../loki/loki-connection.ts";
import { createLokiQueryBackend } from "../loki/loki-query-backend.ts";
import { createLokiSink } from "../loki/loki-sink.ts";
import { createFileQueryBackend } from "../query/file-query-backend.ts";
import type { AuditQueryBackend } from "../query/query-backend.ts";
import { type FindLink, fileFindLink, lokiFindLink } from "../trail/chain-lookup.ts";
import { fileTrailLines, lokiTrailLines, type TrailLineSource } from "../verify/trail-lines.ts";
import { createFileSink } from "./file-sink.ts";
import type { AuditSink } from "./sink.ts";
import { createStdoutSink } from "./stdout-sink.ts";

type SinkConfig = Pick<
  AuditConfig,
  | "sink"
  | "lokiUrl"
  | "lokiTenant"
  | "lokiUsername"
  | "lokiPassword"
  | "lokiGzip"
  | "lokiTimeoutMs"
  | "lokiPushMaxBytes"
  | "environment"
  | "filePath"
>;

function lokiConnection(config: SinkConfig): LokiConnection | undefined {
  if (config.lokiUrl === undefined) return undefined;
  return {
    url: config.lokiUrl,
    tenant: config.lokiTenant,
    username: config.lokiUsername,
    password: config.lokiPassword,
    timeoutMs: config.lokiTimeoutMs,
  };
}

/** Where the raw trail is read back for verification: the same place queries read. */
export function trailLinesFromConfig(config: SinkConfig): TrailLineSource | undefined {
  const loki = lokiConnection(config);
  if (config.sink === "file") return fileTrailLines(config.filePath);
  return loki && lokiTrailLines({ connection: loki, environment: config.environment });
}

/** How the shipper finds a predecessor's link in what was shipped: where queries read. */
export function findLinkFromConfig(config: SinkConfig): FindLink | undefined {
  const loki = lokiConnection(config);
  if (config.sink === "file") return fileFindLink(config.filePath);
  return loki && lokiFindLink(loki, config.environment);
}

/** The sink AUDIT_SINK names, and the backend that answers queries about what it shipped. */
export function createSinkFromConfig(config: SinkConfig): {
  sink: AuditSink;
  queryBackend: AuditQueryBackend | undefined;
} {
  const loki = lokiConnection(config);
  const lokiQueries = loki && createLokiQueryBackend({ connection: loki, environment: config.environment });
  switch (config.sink) {
    case "loki":
      if (!loki) throw new Error("AUDIT_SINK=loki needs LOKI_URL");
      return {
        sink: createLokiSink({
          connection: loki,
          environment: config.environment,
          gzip: config.lokiGzip,
          maxPushBytes: config.lokiPushMaxBytes,
        }),
        queryBackend: lokiQueries,
      };
    case "file":
      return { sink: createFileSink(config.filePath), queryBackend: createFileQueryBackend(config.filePath) };
    case "stdout":
      // Lines on stdout usually reach Loki through a collector: query Loki when it is configured.
      return { sink: createStdoutSink(), queryBackend: lokiQueries };
  }
}
