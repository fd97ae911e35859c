/**
 * @secrets/audit: ships the durable audit stream to Grafana Loki (or a JSONL file, or stdout) and
 * answers audit queries on the bus.
 *
 * - `auditConfigSpec` / `parseAuditConfig`: the environment variables it reads.
 * - `createShipper`: consumer, lease, batching, retries and parking; `shipperLeaseName`.
 * - `AuditSink` with `createLokiSink`, `createFileSink`, `createStdoutSink`.
 * - `AuditQueryBackend` with `createLokiQueryBackend`, `createFileQueryBackend`; `auditQueryFromRequest`.
 * - `serveAuditQueries`, `serveAuditStatus`, `serveAuditVerify`: the bus operations.
 * - `lokiPushBody`, `auditLogql`: Loki's wire formats, pure.
 *
 * The process itself is `src/main.ts`.
 */
export { type AuditConfig, AuditSinkName, auditConfigSpec, parseAuditConfig } from "./config.ts";
export { createQueryHandler, type QueryHandlerDeps, serveAuditQueries } from "./handlers/query-handler.ts";
export { serveAuditStatus } from "./handlers/status-handler.ts";
export { JournalStreamStore } from "./journal/journal-stream-store.ts";
export { auditLogql, logqlString } from "./loki/logql.ts";
export type { LokiConnection } from "./loki/loki-connection.ts";
export {
  type LokiPushBody,
  type LokiStream,
  lokiPushBody,
  lokiTimestamp,
  staticLabels,
} from "./loki/loki-push.ts";
export { createLokiQueryBackend, eventsFromStreamsResponse } from "./loki/loki-query-backend.ts";
export { createLokiSink, type LokiSinkOptions } from "./loki/loki-sink.ts";
export { auditEventFromLine } from "./query/audit-line.ts";
export {
  type AuditQuery,
  auditQueryFromRequest,
  matchesAuditQuery,
  queryLimits,
} from "./query/audit-query.ts";
export { createFileQueryBackend } from "./query/file-query-backend.ts";
export type { AuditQueryBackend } from "./query/query-backend.ts";
export { type ShipperClock, systemClock } from "./shipper/clock.ts";
export { openParkFile, type ParkItem, type Parking, parkedLine } from "./shipper/parking.ts";
export {
  createShipper,
  type Shipper,
  type ShipperDeps,
  type ShipperOptions,
  shipperLeaseName,
} from "./shipper/shipper.ts";
export { createSinkFromConfig } from "./sinks/create-sink.ts";
export { createFileSink } from "./sinks/file-sink.ts";
export type { AuditSink, SinkOutcome } from "./sinks/sink.ts";
export { createStdoutSink, type TextWriter } from "./sinks/stdout-sink.ts";
export { fileTrailLines, lokiTrailLines, type TrailLineSource } from "./verify/trail-lines.ts";
export { createVerifyHandler, serveAuditVerify, type VerifyHandlerDeps } from "./verify/verify-handler.ts";
