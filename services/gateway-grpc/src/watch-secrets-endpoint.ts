/**
 * WatchSecrets, the endpoint: a server stream of `SecretChange`s for the secrets a service is granted.
 * It validates the request, applies the per-address and total stream limits, takes the authentication
 * budgets, listens to the shared change feed first (so nothing is missed), and starts the per-call
 * `WatchStream` (`watch-secrets-stream.ts`).
 *
 * Streams end with UNAVAILABLE when the gateway shuts down, so clients reconnect.
 */
import { type handleServerStreamingCall, Metadata, status } from "@grpc/grpc-js";
import { BusError, type CallerContext, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SecretChange, WatchSecretsRequest } from "@secrets/proto/secrets";
import { addressKey, type BackoffPolicy, backoffDelay, checkWatchSecrets } from "@secrets/validation";
import type { AuthBudgets, BudgetHold } from "./auth-budgets.ts";
import { callerOf, checkWithPresentedToken } from "./call-context.ts";
import type { TrustedProxies } from "./client-address.ts";
import { deadlineMs } from "./deadline.ts";
import type { SecretChangeFeed } from "./secret-change-feed.ts";
import {
  GatewayFailure,
  type GrpcFailure,
  reasonMetadataKey,
  requestIdMetadataKey,
  toGrpcFailure,
} from "./status-map.ts";
import type { CallScope } from "./unary-call.ts";
import type { VaultRequestDeps } from "./vault-request.ts";
import { type WatchCall, WatchStream, type WatchStreamDeps } from "./watch-secrets-stream.ts";

export interface WatchLimits {
  /** Open streams across all peers; more are refused with RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** Open streams per client address (an IPv6 client per /64). */
  maxStreamsPerPeer: number;
}

export interface WatchSecretsDeps extends VaultRequestDeps {
  logger: Logger;
  feed: Pick<SecretChangeFeed, "listen">;
  limits: WatchLimits;
  /** Authentication budgets, shared with GetSecret. */
  budgets: AuthBudgets;
  /** Proxies whose forwarded client address is believed. */
  trustedProxies: TrustedProxies;
  /** Delays between re-checks while the vault is away: doubling, with jitter. Default 250 ms to 5 s. */
  retry?: BackoffPolicy;
  random?: () => number;
}

export interface WatchSecretsEndpoint {
  handler: handleServerStreamingCall<WatchSecretsRequest, SecretChange>;
  /** Refuses new streams and ends every open one with UNAVAILABLE, so their clients reconnect. */
  endAll(): void;
  /** Streams open now. */
  openStreams(): number;
}

export function createWatchSecretsEndpoint(deps: WatchSecretsDeps): WatchSecretsEndpoint {
  const retry = deps.retry ?? { initialDelayMs: 250, maxDelayMs: 5_000 };
  const random = deps.random ?? Math.random;
  const streams = new Set<WatchStream>();
  const perPeer = new Map<string, number>();
  let closing = false;

  const streamDeps: WatchStreamDeps = {
    bus: deps.bus,
    vaultTimeoutMs: deps.vaultTimeoutMs,
    logger: deps.logger,
    budgets: deps.budgets,
    retryDelay: (attempt) => backoffDelay(attempt, retry, random),
    onClosed(stream) {
      streams.delete(stream);
      const peer = addressKey(stream.scope.caller.ipAddress);
      const count = (perPeer.get(peer) ?? 1) - 1;
      if (count > 0) perPeer.set(peer, count);
      else perPeer.delete(peer);
    },
  };

  /** Refuses the call before a stream exists (nothing to release). */
  function refuse(call: WatchCall, caller: CallerContext, error: unknown): void {
    const failure = toGrpcFailure(error, caller.requestId);
    const trailer = new Metadata();
    trailer.set(requestIdMetadataKey, caller.requestId);
    if (failure.reason) trailer.set(reasonMetadataKey, failure.reason);
    deps.logger.info("grpc call", {
      method: "WatchSecrets",
      grpcStatus: status[failure.code] ?? String(failure.code),
      reason: failure.reason,
      durationMs: 0,
      requestId: caller.requestId,
      peer: caller.ipAddress,
    });
    call.emit("error", { code: failure.code, details: failure.message, metadata: trailer });
  }

  function admission(caller: CallerContext): BusError | GatewayFailure | undefined {
    if (closing) return new GatewayFailure(status.UNAVAILABLE, "The gateway is shutting down; reconnect");
    if (streams.size >= deps.limits.maxStreams) {
      return new BusError(
        ErrorCode.RESOURCE_EXHAUSTED,
        "This gateway has as many watch streams open as it allows; try again later",
        { reason: Reason.RATE_LIMITED },
      );
    }
    if ((perPeer.get(addressKey(caller.ipAddress)) ?? 0) >= deps.limits.maxStreamsPerPeer) {
      return new BusError(
        ErrorCode.RESOURCE_EXHAUSTED,
        `This address has ${deps.limits.maxStreamsPerPeer} watch streams open, the most allowed; close one first`,
        { reason: Reason.RATE_LIMITED },
      );
    }
    return undefined;
  }

  const handler: handleServerStreamingCall<WatchSecretsRequest, SecretChange> = (call) => {
    const caller = callerOf(call, deps.trustedProxies);
    const names = [...new Set(call.request.secretNames)];
    const { token, violations } = checkWithPresentedToken(call.metadata, call.request.token, (presented) =>
      checkWatchSecrets({ secretNames: names, token: presented }),
    );
    if (violations.length > 0) return refuse(call, caller, invalidArgument(violations));
    const refusal = admission(caller);
    if (refusal) return refuse(call, caller, refusal);

    let hold: BudgetHold;
    try {
      hold = deps.budgets.take("WatchSecrets", token, caller.ipAddress);
    } catch (error) {
      return refuse(call, caller, error);
    }

    const scope: CallScope = { caller, metadata: call.metadata, deadline: deadlineMs(call.getDeadline()) };
    const stream = new WatchStream(call, scope, token, names, hold, streamDeps);
    streams.add(stream);
    const key = addressKey(caller.ipAddress);
    perPeer.set(key, (perPeer.get(key) ?? 0) + 1);
    call.on("cancelled", () => stream.cancelled());
    stream.stopListening = deps.feed.listen({
      change: (change) => stream.onChange(change),
      resync: () => stream.resync(),
    });
    stream.open().catch((error: unknown) => stream.fail(error));
  };

  return {
    handler,
    endAll() {
      closing = true;
      const failure: GrpcFailure = {
        code: status.UNAVAILABLE,
        message: "The gateway is shutting down; reconnect to keep watching",
        reason: "",
      };
      for (const stream of [...streams]) stream.finish(failure);
    },
    openStreams: () => streams.size,
  };
}
