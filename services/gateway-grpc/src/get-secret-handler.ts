/**
 * GetSecret: validate, take the call's authentication budgets (`auth-budgets.ts`), ask the vault, and
 * settle the budgets with what the vault's answer says of the token.
 */
import { invalidArgument, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { GetSecretRequest, GetSecretResponse } from "@secrets/proto/secrets";
import { checkGetSecret } from "@secrets/validation";
import { type AuthBudgets, verdictOf } from "./auth-budgets.ts";
import { checkWithPresentedToken } from "./call-context.ts";
import type { TrustedProxies } from "./client-address.ts";
import { openReply, type ReplyKeys } from "./reply-keys.ts";
import { unaryCall } from "./unary-call.ts";
import { askVault, type VaultRequestDeps } from "./vault-request.ts";

export interface GetSecretDeps extends VaultRequestDeps {
  logger: Logger;
  /** Budgets per token and per client address, taken before the vault is asked. */
  budgets: AuthBudgets;
  /** Proxies whose forwarded client address is believed. */
  trustedProxies: TrustedProxies;
  /** The key pair the vault seals values to. */
  replyKeys: ReplyKeys;
}

export function createGetSecretHandler(deps: GetSecretDeps) {
  return unaryCall<GetSecretRequest, GetSecretResponse>("GetSecret", deps, async (request, scope) => {
    const { token, violations } = checkWithPresentedToken(scope.metadata, request.token, (token) =>
      checkGetSecret({ secretName: request.secretName, description: request.description, token }),
    );
    if (violations.length > 0) throw invalidArgument(violations);
    const hold = deps.budgets.take("GetSecret", token, scope.caller.ipAddress);
    const keys = deps.replyKeys.current();
    const reply = await askVault(
      deps,
      serviceOperations.getSecret,
      {
        secretName: request.secretName,
        description: request.description,
        token,
        caller: scope.caller,
        replyKey: keys.publicKey,
      },
      scope,
    ).catch((error: unknown) => {
      hold.settle(verdictOf(error));
      throw error;
    });
    hold.settle("approved");
    const value = openReply(keys, reply, request.secretName, scope.caller.requestId, deps.logger);
    return { value, success: true, errorMessage: "" };
  });
}
