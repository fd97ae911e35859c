/**
 * Asking the vault over the bus on behalf of a gRPC call: the call's deadline bounds the wait, and the
 * caller's identity travels along for the audit event.
 */
import { status } from "@grpc/grpc-js";
import { type Bus, forwardToken, type Operation, request } from "@secrets/bus";
import { busTimeoutMs } from "./deadline.ts";
import { GatewayFailure } from "./status-map.ts";
import type { CallScope } from "./unary-call.ts";

export interface VaultRequestDeps {
  bus: Bus;
  /** The longest wait for the vault's reply (`GATEWAY_VAULT_TIMEOUT_MS`). */
  vaultTimeoutMs: number;
}

/**
 * The message as it goes on the bus: a service token is replaced by its hash (`forwardToken`), all the vault
 * needs, so no service token ever crosses the bus. Every service-facing operation that authenticates names
 * its token `token`, so a new one is covered without more code.
 */
function withForwardedToken<Req>(message: Req): Req {
  const token = (message as { token?: unknown }).token;
  return typeof token === "string" && token !== "" ? { ...message, token: forwardToken(token) } : message;
}

/**
 * Sends `message` to the vault (its token forwarded as a hash) and returns its reply; rejects with the
 * vault's BusError, or with DEADLINE_EXCEEDED when the call has no time left to ask.
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
  return request(deps.bus, operation, withForwardedToken(message), { timeoutMs });
}
