/**
 * RegisterToken: rate-limited per client address (every call counts, valid or not, except an approved
 * token's: a flood from its address never stops an approved service from starting), validated, then
 * recorded by the vault as pending approval; the vault's status and message go back to the service.
 */
import { createHash } from "node:crypto";
import type { ThrottleReport } from "@secrets/bus";
import { BusError, ErrorCode, invalidArgument, Reason, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { RegisterTokenRequest, RegisterTokenResponse } from "@secrets/proto/secrets";
import type { RateLimiter } from "@secrets/validation";
import { addressKey, checkRegisterToken } from "@secrets/validation";
import type { ApprovedTokens } from "./approved-tokens.ts";
import { checkWithPresentedToken } from "./call-context.ts";
import type { TrustedProxies } from "./client-address.ts";
import { unaryCall } from "./unary-call.ts";
import { askVault, type VaultRequestDeps } from "./vault-request.ts";

export interface RegisterTokenDeps extends VaultRequestDeps {
  logger: Logger;
  /** RegisterToken calls per client address. */
  registrations: Pick<RateLimiter, "tryTake" | "retryAfterMs">;
  approved: Pick<ApprovedTokens, "has">;
  throttled: ThrottleReport;
  trustedProxies: TrustedProxies;
}

export function createRegisterTokenHandler(deps: RegisterTokenDeps) {
  return unaryCall<RegisterTokenRequest, RegisterTokenResponse>(
    "RegisterToken",
    deps,
    async (request, scope) => {
      const address = scope.caller.ipAddress;
      const presented = checkWithPresentedToken(scope.metadata, request.token, () => []).token;
      const approved =
        presented !== "" && deps.approved.has(createHash("sha256").update(presented, "utf8").digest("hex"));
      if (!approved && !deps.registrations.tryTake(addressKey(address))) {
        deps.throttled.count("RegisterToken", "address", "", address);
        const seconds = Math.ceil(deps.registrations.retryAfterMs(addressKey(address)) / 1000);
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
          caller: scope.caller,
        },
        scope,
      );
      return { status: reply.status, message: reply.message };
    },
  );
}
