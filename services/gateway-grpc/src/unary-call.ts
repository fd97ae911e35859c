/**
 * What every unary RPC shares: a request id (sent back as metadata), the caller's identity, the deadline,
 * the mapping of any failure to a gRPC status with its `secrets-reason` trailer, and one log line per call
 * (never a token or a value). Handlers are plain async functions that return a response or throw.
 */
import { type handleUnaryCall, Metadata, status } from "@grpc/grpc-js";
import type { CallerContext } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { callerOf } from "./call-context.ts";
import type { TrustedProxies } from "./client-address.ts";
import { deadlineMs } from "./deadline.ts";
import { reasonMetadataKey, requestIdMetadataKey, toGrpcFailure } from "./status-map.ts";

/** What a handler knows about its call besides the request message. */
export interface CallScope {
  caller: CallerContext;
  metadata: Metadata;
  /** Milliseconds since the epoch; Infinity when the client set no deadline. */
  deadline: number;
}

export type UnaryLogic<Req, Res> = (request: Req, scope: CallScope) => Promise<Res>;

function requestIdMetadata(requestId: string): Metadata {
  const metadata = new Metadata();
  metadata.set(requestIdMetadataKey, requestId);
  return metadata;
}

/**
 * Adapts `logic` to grpc-js. `method` names the RPC in the log (`GetSecret`); the caller's address is
 * resolved through `trustedProxies`.
 *
 * @example server.addService(SecretsServiceService, { getSecret: unaryCall("GetSecret", deps, logic) })
 */
export function unaryCall<Req, Res>(
  method: string,
  deps: { logger: Logger; trustedProxies: TrustedProxies },
  logic: UnaryLogic<Req, Res>,
): handleUnaryCall<Req, Res> {
  const logger = deps.logger;
  return (call, callback) => {
    const started = performance.now();
    const caller = callerOf(call, deps.trustedProxies);
    const log = (code: status, reason: string, extra: Record<string, unknown> = {}) => {
      const fields = {
        method,
        grpcStatus: status[code] ?? String(code),
        reason,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: caller.requestId,
        peer: caller.ipAddress,
        ...(call.cancelled ? { cancelled: true } : {}),
        ...extra,
      };
      if (code === status.INTERNAL) logger.error("grpc call", fields);
      else if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED)
        logger.warn("grpc call", fields);
      else logger.info("grpc call", fields);
    };
    const scope: CallScope = { caller, metadata: call.metadata, deadline: deadlineMs(call.getDeadline()) };
    logic(call.request, scope).then(
      (response) => {
        log(status.OK, "");
        // The initial metadata leaves with the response, not when the call arrives: one write instead of
        // two per call, and one wake-up of the client fewer (measured in bench/README.md).
        call.sendMetadata(requestIdMetadata(caller.requestId));
        callback(null, response, requestIdMetadata(caller.requestId));
      },
      (error: unknown) => {
        const failure = toGrpcFailure(error, caller.requestId);
        const trailer = requestIdMetadata(caller.requestId);
        if (failure.reason !== "") trailer.set(reasonMetadataKey, failure.reason);
        log(failure.code, failure.reason, failure.detail === undefined ? {} : { detail: failure.detail });
        call.sendMetadata(requestIdMetadata(caller.requestId));
        callback({ code: failure.code, details: failure.message, metadata: trailer });
      },
    );
  };
}
