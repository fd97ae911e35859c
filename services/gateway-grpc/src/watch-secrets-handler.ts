/**
 * WatchSecrets: a server stream of `SecretChange`s for the secrets a service is granted.
 *
 * 1. Validate, apply the per-address and total stream limits, and take the authentication budgets.
 * 2. Listen to the shared change feed first (so nothing is missed), then ask the vault to authorize the
 *    token and names (`authorize-watch`); send the initial metadata and the current version of every
 *    granted name.
 * 3. For each `SecretChanged` of a watched name, ask the vault again for that name: the token or the
 *    grant may have changed since. An invalid token ends the stream with its status; a grant that is gone
 *    drops the name without a word (a deletion is reported); otherwise the new version is pushed. While the
 *    vault is away the re-check is retried with backoff, so the change is pushed once it is back. After
 *    the bus reconnects (events may have been missed), every name is checked again.
 *
 * Streams end with UNAVAILABLE when the gateway shuts down, so clients reconnect. Never a value or a token
 * on the stream or in the log.
 */
import { type handleServerStreamingCall, Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  BusError,
  type CallerContext,
  ErrorCode,
  invalidArgument,
  Reason,
  serviceOperations,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SecretChange, WatchSecretsRequest } from "@secrets/proto/secrets";
import type { SecretChanged } from "@secrets/proto/vault";
import { addressKey, type BackoffPolicy, backoffDelay, checkWatchSecrets, sleep } from "@secrets/validation";
import { type AuthBudgets, type BudgetHold, verdictOf } from "./auth-budgets.ts";
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
import { askVault, type VaultRequestDeps } from "./vault-request.ts";

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

type Call = ServerWritableStream<WatchSecretsRequest, SecretChange>;

/** Vault failures that pass: the re-check is retried rather than the stream ended. */
const transientCodes = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
  ErrorCode.NO_RESPONDERS,
  ErrorCode.RESOURCE_EXHAUSTED,
]);

const isTransient = (error: unknown) => error instanceof BusError && transientCodes.has(error.code);

export function createWatchSecretsEndpoint(deps: WatchSecretsDeps): WatchSecretsEndpoint {
  const retry = deps.retry ?? { initialDelayMs: 250, maxDelayMs: 5_000 };
  const random = deps.random ?? Math.random;
  const streams = new Set<WatchStream>();
  const perPeer = new Map<string, number>();
  let closing = false;

  const retryDelay = (attempt: number) => backoffDelay(attempt, retry, random);

  /** One open stream: what it watches, what it last pushed, and the re-checks still to do. */
  class WatchStream {
    readonly started = performance.now();
    readonly abort = new AbortController();
    readonly names: ReadonlySet<string>;
    /** Granted names and the version last pushed for each. */
    readonly versions = new Map<string, number>();
    /** Names changed since their last check; true when a change was a deletion. */
    readonly dirty = new Map<string, boolean>();
    ready = false;
    working = false;
    closed = false;
    pushed = 0;
    stopListening: () => void = () => {};

    constructor(
      readonly call: Call,
      readonly scope: CallScope,
      readonly token: string,
      names: readonly string[],
      readonly hold: BudgetHold,
    ) {
      this.names = new Set(names);
    }

    onChange(change: SecretChanged): void {
      if (this.closed || !this.names.has(change.secretName)) return;
      this.dirty.set(change.secretName, (this.dirty.get(change.secretName) ?? false) || change.deleted);
      this.kick();
    }

    /** Changes may have been missed: check every name again. */
    resync(): void {
      if (this.closed) return;
      for (const name of this.names) this.dirty.set(name, this.dirty.get(name) ?? false);
      this.kick();
    }

    kick(): void {
      if (this.ready && !this.working && !this.closed && this.dirty.size > 0)
        this.work().catch((error: unknown) => this.fail(error));
    }

    authorize(names: string[]) {
      return askVault(
        deps,
        serviceOperations.authorizeWatch,
        { secretNames: names, token: this.token, caller: this.scope.caller },
        this.scope,
      );
    }

    push(change: SecretChange): void {
      if (this.closed) return;
      this.pushed++;
      this.call.write(change);
    }

    async open(): Promise<void> {
      const reply = await this.authorize([...this.names]).catch((error: unknown) => {
        this.hold.settle(verdictOf(error));
        throw error;
      });
      this.hold.settle("approved");
      if (this.closed) return;
      const metadata = new Metadata();
      metadata.set(requestIdMetadataKey, this.scope.caller.requestId);
      this.call.sendMetadata(metadata);
      for (const secret of reply.secrets) {
        this.versions.set(secret.secretName, secret.version);
        this.push({ secretName: secret.secretName, version: secret.version, deleted: false });
      }
      deps.logger.info("watch stream opened", {
        requestId: this.scope.caller.requestId,
        peer: this.scope.caller.ipAddress,
        names: this.names.size,
        granted: reply.secrets.length,
      });
      this.ready = true;
      this.kick();
    }

    /** Re-checks changed names until none is left, retrying while the vault is away. */
    async work(): Promise<void> {
      this.working = true;
      let attempt = 0;
      try {
        while (!this.closed && this.dirty.size > 0) {
          const batch = new Map(this.dirty);
          this.dirty.clear();
          try {
            const reply = await this.authorize([...batch.keys()]);
            attempt = 0;
            this.apply(batch, new Map(reply.secrets.map((s) => [s.secretName, s.version])));
          } catch (error) {
            if (this.closed) return;
            if (!isTransient(error)) return this.fail(error);
            for (const [name, deleted] of batch)
              this.dirty.set(name, (this.dirty.get(name) ?? false) || deleted);
            const delayMs = retryDelay(attempt++);
            deps.logger.warn("watch re-check failed; retrying", {
              requestId: this.scope.caller.requestId,
              error: error instanceof Error ? error.message : String(error),
              delayMs,
            });
            await sleep(delayMs, this.abort.signal);
          }
        }
      } finally {
        this.working = false;
      }
    }

    apply(batch: Map<string, boolean>, granted: Map<string, number>): void {
      for (const [name, deleted] of batch) {
        const version = granted.get(name);
        const last = this.versions.get(name);
        if (version !== undefined) {
          this.versions.set(name, version);
          if (version !== last) this.push({ secretName: name, version, deleted: false });
        } else if (last !== undefined) {
          // No longer granted: a deletion is news; a withdrawn grant is dropped without a word.
          this.versions.delete(name);
          if (deleted) this.push({ secretName: name, version: 0, deleted: true });
        }
      }
    }

    /** Ends the stream with the failure's status (or OK when there is none). */
    finish(failure: GrpcFailure | undefined): void {
      if (this.closed) return;
      this.release();
      const trailer = new Metadata();
      trailer.set(requestIdMetadataKey, this.scope.caller.requestId);
      if (failure?.reason) trailer.set(reasonMetadataKey, failure.reason);
      this.log(failure);
      if (failure)
        this.call.emit("error", { code: failure.code, details: failure.message, metadata: trailer });
      else this.call.end(trailer);
    }

    fail(error: unknown): void {
      // A re-check that finds the token revoked: it is approved no more on this gateway either.
      const verdict = verdictOf(error);
      if (verdict === "refused" || verdict === "unknown") deps.budgets.approved.forget(this.hold.tokenHash);
      this.finish(toGrpcFailure(error, this.scope.caller.requestId));
    }

    /** The client went away. */
    cancelled(): void {
      if (this.closed) return;
      this.release();
      this.log(undefined, true);
    }

    release(): void {
      this.closed = true;
      this.abort.abort();
      this.stopListening();
      streams.delete(this);
      const peer = addressKey(this.scope.caller.ipAddress);
      const count = (perPeer.get(peer) ?? 1) - 1;
      if (count > 0) perPeer.set(peer, count);
      else perPeer.delete(peer);
    }

    log(failure: GrpcFailure | undefined, cancelled = false): void {
      const code = failure?.code ?? (cancelled ? status.CANCELLED : status.OK);
      const fields = {
        method: "WatchSecrets",
        grpcStatus: status[code] ?? String(code),
        reason: failure?.reason ?? "",
        durationMs: Math.round(performance.now() - this.started),
        requestId: this.scope.caller.requestId,
        peer: this.scope.caller.ipAddress,
        names: this.names.size,
        pushed: this.pushed,
        ...(failure?.detail === undefined ? {} : { detail: failure.detail }),
      };
      if (code === status.INTERNAL) deps.logger.error("grpc call", fields);
      else if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED)
        deps.logger.warn("grpc call", fields);
      else deps.logger.info("grpc call", fields);
    }
  }

  /** Refuses the call before a stream exists (nothing to release). */
  function refuse(call: Call, caller: CallerContext, error: unknown): void {
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
    const stream = new WatchStream(call, scope, token, names, hold);
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
