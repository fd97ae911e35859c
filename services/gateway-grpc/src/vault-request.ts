/**
 * Asking the vault over the bus on behalf of a gRPC call: the call's deadline bounds the wait, and the
 * caller's identity travels along for the audit event.
 */
import { status } from "@grpc/grpc-js";
import { type Bus, type Operation, request } from "@secrets/bus";
import type { CallerContext } from "@secrets/proto/vault";
import { busTimeoutMs } from "./deadline.ts";
import { GatewayFailure } from "./status-map.ts";
import type { CallScope } from "./unary-call.ts";

export interface VaultRequestDeps {
  bus: Bus;
  /** The longest wait for the vault's reply (`GATEWAY_VAULT_TIMEOUT_MS`). */
  vaultTimeoutMs: number;
}

/** The `CallerContext` sent with every vault request. */
export function callerContext(scope: CallScope): CallerContext {
  return {
    requestId: scope.caller.requestId,
    ipAddress: scope.caller.peer,
    userAgent: scope.caller.userAgent,
  };
}

/**
 * Sends `message` to the vault and returns its reply; rejects with the vault's BusError, or with
 * DEADLINE_EXCEEDED when the call has no time left to ask.
 */
export function askVault<Req, Rep>(
  deps: VaultRequestDeps,
  operation: Operation<Req, Rep>,
  message: Req,
  scope: CallScope,
): Promise<Rep> {
  // Wall-clock time on purpose: grpc-js deadlines are wall-clock too.
  const timeoutMs = busTimeoutMs({
    deadline: scope.deadline,
    now: Date.now(),
    configuredMs: deps.vaultTimeoutMs,
  });
  if (timeoutMs === undefined) {
    return Promise.reject(
      new GatewayFailure(status.DEADLINE_EXCEEDED, "The call's deadline left no time to ask the vault"),
    );
  }
  return request(deps.bus, operation, message, { timeoutMs });
}
