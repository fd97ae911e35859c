/**
 * RegisterToken: rate-limited per peer address (every call counts, valid or not), validated, then
 * recorded by the vault as pending approval; the vault's status and message go back to the service.
 */
import { BusError, ErrorCode, invalidArgument, Reason, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { RegisterTokenRequest, RegisterTokenResponse } from "@secrets/proto/secrets";
import { checkRegisterToken } from "@secrets/validation";
import { checkWithPresentedToken } from "./call-context.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { unaryCall } from "./unary-call.ts";
import { askVault, callerContext, type VaultRequestDeps } from "./vault-request.ts";

export interface RegisterTokenDeps extends VaultRequestDeps {
  logger: Logger;
  /** RegisterToken calls per peer. */
  registrations: Pick<RateLimiter, "tryTake" | "retryAfterMs">;
}

export function createRegisterTokenHandler(deps: RegisterTokenDeps) {
  return unaryCall<RegisterTokenRequest, RegisterTokenResponse>(
    "RegisterToken",
    deps.logger,
    async (request, scope) => {
      const peer = scope.caller.peer;
      if (!deps.registrations.tryTake(peer)) {
        const seconds = Math.ceil(deps.registrations.retryAfterMs(peer) / 1000);
        throw new BusError(
          ErrorCode.RESOURCE_EXHAUSTED,
          `Too many token registrations from this address; try again in ${seconds} s`,
          { reason: Reason.RATE_LIMITED },
        );
      }
      const { token, violations } = checkWithPresentedToken(scope.metadata, request.token, (token) =>
        checkRegisterToken({
          serviceName: request.serviceName,
          serviceVersion: request.serviceVersion,
          token,
        }),
      );
      if (violations.length > 0) throw invalidArgument(violations);

      const reply = await askVault(
        deps,
        serviceOperations.registerToken,
        {
          serviceName: request.serviceName,
          serviceVersion: request.serviceVersion,
          token,
          caller: callerContext(scope),
        },
        scope,
      );
      return { status: reply.status, message: reply.message };
    },
  );
}
