/**
 * @secrets/bus: the message bus between the services.
 *
 * - `Bus`: request-reply with timeouts, queue-group serving, publish/subscribe, durable streams.
 * - `connectNatsBus` (distributed mode) and `MemoryBus` (embedded mode) implement it.
 * - `serviceOperations`, `adminOperations`, `auditEventsTopic`: the subjects registry.
 * - `request`, `serve`, `publish`, `subscribe`, `publishDurable`: typed helpers over the registry.
 * - `bus.lease(name, { holder, ttlMs })`: one holder at a time (`Lease`, `newLeaseHolder`).
 * - `BusError` with `ErrorCode` and `Reason`: the one closed set of errors that crosses the bus.
 * - `forwardToken`: a service token as it crosses the bus (its hash, never the token).
 */

export {
  approvedTokenKey,
  approvedTokenKeyLength,
  maxApprovedTokenKeys,
  packApprovedTokenKeys,
  unpackApprovedTokenKeys,
} from "./approved-token-keys.ts";
export {
  AuditEventName,
  auditEventNames,
  auditLogLine,
  auditServiceLabel,
  isAuditEventName,
} from "./audit-events.ts";
export type {
  Bus,
  ConsumerSpec,
  ConsumerState,
  DurableAck,
  DurableConsumer,
  DurableMessage,
  MessageHandler,
  RequestHandler,
  RequestOptions,
  StreamSpec,
  StreamState,
  Subscription,
} from "./bus.ts";
export { type CallerContext, callerContextOf } from "./caller-context.ts";
export {
  type BusConfig,
  busConfigChecks,
  busConfigFields,
  connectBusFromConfig,
  natsTlsFromConfig,
  probeBus,
} from "./config.ts";
export {
  BusError,
  ErrorCode,
  errorCodeName,
  type FieldViolation,
  invalidArgument,
  isBusError,
  Reason,
  reasonName,
} from "./errors.ts";
export { forwardedTokenHash, forwardedTokenPrefix, forwardToken } from "./forwarded-token.ts";
export { type Lease, type LeaseOptions, leaseNamePattern, newLeaseHolder } from "./lease.ts";
export { MemoryBus, type MemoryBusOptions } from "./memory-bus.ts";
export { MemoryStreamStore, type StoredMessage, type StreamStore } from "./memory-stream-store.ts";
export { defaultNamespace, namespacePattern } from "./namespace.ts";
export { connectNatsBus, NatsBus, type NatsBusOptions, type NatsTlsFiles } from "./nats-bus.ts";
export {
  adminOperations,
  auditEventsTopic,
  auditOperations,
  auditQueue,
  auditStreamName,
  auditStreamSpec,
  cacheInvalidatedTopic,
  type MessageCodec,
  type Operation,
  secretChangedTopic,
  serviceOperations,
  serviceTokensChangedTopic,
  type Topic,
  vaultQueue,
} from "./operations.ts";
export {
  createThrottleReport,
  type ThrottleBudget,
  type ThrottleReport,
  type ThrottleReportDeps,
} from "./throttle-report.ts";
export { publish, publishDurable, request, serve, subscribe } from "./typed.ts";
