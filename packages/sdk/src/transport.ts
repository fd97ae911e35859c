/**
 * The calls the client makes, as plain data: the gRPC implementation is in `grpc-transport.ts`; tests
 * pass their own object through the client's dependencies.
 */
import type { TokenStatus } from "@secrets/proto/secrets";

/** A failed call as the gateway reported it. */
export interface CallFailure {
  /** The gRPC status name: "UNAVAILABLE", "PERMISSION_DENIED", "DEADLINE_EXCEEDED", ... */
  code: string;
  /** The gateway's message (written for the user; never holds a value). */
  details: string;
  /** The `secrets-reason` trailer (`ACCESS_PENDING`, ...), "" when absent. */
  reason: string;
  /** The `secrets-request-id` metadata, "" when absent. */
  requestId: string;
}

export type CallResult<T> =
  | { ok: true; response: T; requestId: string }
  | { ok: false; failure: CallFailure };

/** One message of a WatchSecrets stream: a secret's current version (never its value). */
export interface WatchedChange {
  secretName: string;
  /** 0 when the secret has no value or was deleted. */
  version: number;
  deleted: boolean;
}

/** What a WatchSecrets stream reports, in order: open, changes, end. */
export interface WatchHandlers {
  /** The gateway accepted the stream; the current version of each granted secret follows. */
  onOpen(requestId: string): void;
  onChange(change: WatchedChange): void;
  /** The stream ended: with the gateway's failure, or `undefined` if it ended cleanly. Not called after `cancel`. */
  onEnd(failure: CallFailure | undefined): void;
}

/** One secret's outcome in a GetSecrets answer. */
export type BatchSecretResult =
  | { secretName: string; ok: true; value: string }
  | { secretName: string; ok: false; failure: Omit<CallFailure, "requestId"> };

export interface WatchHandle {
  /** Ends the stream from this side; no handler is called afterwards. */
  cancel(): void;
}

export interface SecretsTransport {
  registerToken(
    request: { serviceName: string; serviceVersion: string },
    token: string,
    timeoutMs: number,
  ): Promise<CallResult<{ status: TokenStatus; message: string }>>;
  getSecret(
    request: { secretName: string; description: string },
    token: string,
    timeoutMs: number,
  ): Promise<CallResult<{ value: string }>>;
  /**
   * GetSecrets: several secrets in one call, each with its own outcome. Optional, so that transports
   * written before it keep working: the client then reads each secret on its own.
   */
  getSecrets?(
    request: { secrets: readonly { secretName: string; description: string }[] },
    token: string,
    timeoutMs: number,
  ): Promise<CallResult<{ results: BatchSecretResult[] }>>;
  /**
   * Opens a WatchSecrets stream. Optional, so that transports written before it keep working: the client
   * cannot watch over one without it.
   */
  watchSecrets?(
    request: { secretNames: readonly string[] },
    token: string,
    handlers: WatchHandlers,
  ): WatchHandle;
  close(): void;
}
