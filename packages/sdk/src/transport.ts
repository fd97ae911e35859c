/**
 * The two calls the client makes, as plain data: the gRPC implementation is in `grpc-transport.ts`; tests
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
  close(): void;
}
