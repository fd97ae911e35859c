/**
 * One open WatchSecrets stream (started by `watch-secrets-endpoint.ts`): what it watches, what it last
 * pushed, and the re-checks still to do.
 *
 * Once the stream listens to the change feed, the vault authorizes the token and names
 * (`authorize-watch`); the initial metadata and the current version of every granted name are sent. For
 * each `SecretChanged` of a watched name the vault is asked again for that name: the token or the access
 * request may have changed since. An invalid token ends the stream with its status; a name no longer
 * granted is dropped without a word (a deletion is reported); otherwise the new version is pushed. While
 * the vault is away the re-check is retried with backoff, so the change is pushed once it is back. After
 * the bus reconnects (events may have been missed), every name is checked again.
 *
 * Never a value or a token on the stream or in the log.
 */
import { Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import { BusError, ErrorCode, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SecretChange, WatchSecretsRequest } from "@secrets/proto/secrets";
import type { SecretChanged } from "@secrets/proto/vault";
import { sleep } from "@secrets/validation";
import { type AuthBudgets, type BudgetHold, verdictOf } from "./auth-budgets.ts";
import { type GrpcFailure, reasonMetadataKey, requestIdMetadataKey, toGrpcFailure } from "./status-map.ts";
import type { CallScope } from "./unary-call.ts";
import { askVault, type VaultRequestDeps } from "./vault-request.ts";

export type WatchCall = ServerWritableStream<WatchSecretsRequest, SecretChange>;

export interface WatchStreamDeps extends VaultRequestDeps {
  logger: Logger;
  /** Forgets a token found revoked on a re-check. */
  budgets: Pick<AuthBudgets, "approved">;
  /** The delay before re-check attempt `attempt` (0-based) while the vault is away. */
  retryDelay: (attempt: number) => number;
  /** Told once when the stream ends, however it ends. */
  onClosed: (stream: WatchStream) => void;
}

/** Vault failures that pass: the re-check is retried rather than the stream ended. */
const transientCodes = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
  ErrorCode.NO_RESPONDERS,
  ErrorCode.RESOURCE_EXHAUSTED,
]);

const isTransient = (error: unknown) => error instanceof BusError && transientCodes.has(error.code);

/** One open stream: what it watches, what it last pushed, and the re-checks still to do. */
export class WatchStream {
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
    readonly call: WatchCall,
    readonly scope: CallScope,
    readonly token: string,
    names: readonly string[],
    readonly hold: BudgetHold,
    private readonly deps: WatchStreamDeps,
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
      this.deps,
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
    this.deps.logger.info("watch stream opened", {
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
          const delayMs = this.deps.retryDelay(attempt++);
          this.deps.logger.warn("watch re-check failed; retrying", {
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
        // No longer granted: a deletion is news; withdrawn access is dropped without a word.
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
    if (failure) this.call.emit("error", { code: failure.code, details: failure.message, metadata: trailer });
    else this.call.end(trailer);
  }

  fail(error: unknown): void {
    // A re-check that finds the token revoked: it is approved no more on this gateway either.
    const verdict = verdictOf(error);
    if (verdict === "refused" || verdict === "unknown")
      this.deps.budgets.approved.forget(this.hold.tokenHash);
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
    this.deps.onClosed(this);
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
    if (code === status.INTERNAL) this.deps.logger.error("grpc call", fields);
    else if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED)
      this.deps.logger.warn("grpc call", fields);
    else this.deps.logger.info("grpc call", fields);
  }
}
