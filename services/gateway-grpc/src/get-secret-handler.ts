/**
 * GetSecret: validate, refuse peers that spent their failed-authentication budget, ask the vault, and
 * count the vault's UNAUTHENTICATED answers against the peer.
 */
import { BusError, ErrorCode, invalidArgument, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { GetSecretRequest, GetSecretResponse } from "@secrets/proto/secrets";
import { checkGetSecret } from "@secrets/validation";
import { type AuthFailures, spentPeerRefusal } from "./auth-failures.ts";
import { checkWithPresentedToken } from "./call-context.ts";
import { openReply, type ReplyKeys } from "./reply-keys.ts";
import { unaryCall } from "./unary-call.ts";
import { askVault, callerContext, type VaultRequestDeps } from "./vault-request.ts";

export interface GetSecretDeps extends VaultRequestDeps {
  logger: Logger;
  /** Failed authentications per peer; an empty bucket refuses the peer's calls. */
  authFailures: AuthFailures;
  /** The key pair the vault seals values to. */
  replyKeys: ReplyKeys;
}

export function createGetSecretHandler(deps: GetSecretDeps) {
  return unaryCall<GetSecretRequest, GetSecretResponse>("GetSecret", deps.logger, async (request, scope) => {
    const peer = scope.caller.peer;
    const refusal = spentPeerRefusal(deps.authFailures, peer);
    if (refusal) throw refusal;
    const { token, violations } = checkWithPresentedToken(scope.metadata, request.token, (token) =>
      checkGetSecret({ secretName: request.secretName, description: request.description, token }),
    );
    if (violations.length > 0) throw invalidArgument(violations);

    try {
      const keys = deps.replyKeys.current();
      const reply = await askVault(
        deps,
        serviceOperations.getSecret,
        {
          secretName: request.secretName,
          description: request.description,
          token,
          caller: callerContext(scope),
          replyKey: keys.publicKey,
        },
        scope,
      );
      const value = openReply(keys, reply, request.secretName, scope.caller.requestId, deps.logger);
      return { value, success: true, errorMessage: "" };
    } catch (error) {
      if (error instanceof BusError && error.code === ErrorCode.UNAUTHENTICATED)
        deps.authFailures.record(peer);
      throw error;
    }
  });
}
