/**
 * GetSecrets: GetSecret for several secrets at once (a service starting up). The same checks as
 * GetSecret (authentication budgets, input rules, the token from the metadata first), one request
 * to the vault, and each secret's outcome mapped through the same status table as a whole call's failure.
 */
import { BusError, invalidArgument, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { GetSecretsRequest, GetSecretsResponse, SecretResult } from "@secrets/proto/secrets";
import type { VaultSecretResult } from "@secrets/proto/vault";
import type { ReplyKeyPair } from "@secrets/sealing";
import { checkGetSecrets } from "@secrets/validation";
import { verdictOf } from "./auth-budgets.ts";
import { checkWithPresentedToken } from "./call-context.ts";
import type { GetSecretDeps } from "./get-secret-handler.ts";
import { openReply } from "./reply-keys.ts";
import { toGrpcFailure } from "./status-map.ts";
import { unaryCall } from "./unary-call.ts";
import { askVault } from "./vault-request.ts";

function toSecretResult(
  result: VaultSecretResult,
  requestId: string,
  keys: ReplyKeyPair,
  logger: Logger,
): SecretResult {
  const { secretName } = result;
  if (!result.error) {
    const value = openReply(keys, result, secretName, requestId, logger);
    return { secretName, value, success: true, code: 0, reason: "", errorMessage: "" };
  }
  const { code, message, reason, violations } = result.error;
  const failure = toGrpcFailure(new BusError(code, message, { reason, violations }), requestId);
  if (failure.detail !== undefined)
    logger.error("GetSecrets: one secret failed", { secretName, requestId, detail: failure.detail });
  return {
    secretName,
    value: "",
    success: false,
    code: failure.code,
    reason: failure.reason,
    errorMessage: failure.message,
  };
}

export function createGetSecretsHandler(deps: GetSecretDeps) {
  return unaryCall<GetSecretsRequest, GetSecretsResponse>("GetSecrets", deps, async (request, scope) => {
    const secrets = request.secrets.map((secret) => ({
      secretName: secret.secretName,
      description: secret.description,
    }));
    const { token, violations } = checkWithPresentedToken(scope.metadata, request.token, (token) =>
      checkGetSecrets({ secrets, token }),
    );
    if (violations.length > 0) throw invalidArgument(violations);
    const hold = deps.budgets.take("GetSecrets", token, scope.caller.ipAddress);
    const keys = deps.replyKeys.current();
    const reply = await askVault(
      deps,
      serviceOperations.getSecrets,
      { secrets, token, caller: scope.caller, replyKey: keys.publicKey },
      scope,
    ).catch((error: unknown) => {
      hold.settle(verdictOf(error));
      throw error;
    });
    hold.settle("approved");
    return {
      results: reply.results.map((result) =>
        toSecretResult(result, scope.caller.requestId, keys, deps.logger),
      ),
    };
  });
}
