import {
  type Bus,
  BusError,
  ErrorCode,
  invalidArgument,
  type Subscription,
  serve,
  serviceOperations,
  vaultQueue,
} from "@secrets/bus";
import type { CallerContext } from "@secrets/proto/vault";
import { ReplySealer, replyKeyLength, sealedReplyContext } from "@secrets/sealing";
import type { GetSecretService } from "../secrets/get-secret-service.ts";
import type { WatchService } from "../secrets/watch-service.ts";
import type { ApprovedTokenKeys } from "../service-tokens/approved-token-keys.ts";
import type { createRegisterTokenService } from "../service-tokens/register-token-service.ts";
import type { createThrottleReportService } from "../service-tokens/throttle-report-service.ts";

export interface ServiceHandlerDeps {
  getSecret: GetSecretService;
  registerToken: ReturnType<typeof createRegisterTokenService>;
  authorizeWatch: WatchService;
  approvedTokenKeys: ApprovedTokenKeys;
  reportThrottled: ReturnType<typeof createThrottleReportService>;
  /** Resolves when the vault can serve (its database answers); rejects otherwise. */
  checkReady: () => Promise<void>;
}

function caller(context: CallerContext | undefined): CallerContext {
  return {
    requestId: context?.requestId ?? "",
    ipAddress: context?.ipAddress ?? "",
    userAgent: context?.userAgent ?? "",
  };
}

/** A request's reply key: empty (answer in clear) or 32 bytes; refused before any work is done. */
function checkReplyKey(replyKey: Uint8Array): void {
  if (replyKey.byteLength !== 0 && replyKey.byteLength !== replyKeyLength) {
    throw invalidArgument([{ field: "reply_key", description: `must be ${replyKeyLength} bytes` }]);
  }
}

/** Serves the service-facing operations (requested by the gateway) in the vault's queue group. */
export function serveServiceOperations(bus: Bus, deps: ServiceHandlerDeps): Subscription[] {
  const options = { queue: vaultQueue };
  const sealer = new ReplySealer();
  /** The value as it goes on the bus: sealed to the asking gateway when it sent a reply key. */
  const answer = (
    value: string,
    secretName: string,
    request: { replyKey: Uint8Array; caller?: CallerContext },
  ) =>
    request.replyKey.byteLength === 0
      ? { value }
      : {
          value: "",
          sealed: sealer.seal(
            request.replyKey,
            value,
            sealedReplyContext(secretName, request.caller?.requestId ?? ""),
          ),
        };
  return [
    serve(bus, serviceOperations.getSecret, options, async (request) => {
      checkReplyKey(request.replyKey);
      const value = await deps.getSecret.getSecret({
        secretName: request.secretName,
        description: request.description,
        token: request.token,
        caller: caller(request.caller),
      });
      return answer(value, request.secretName, request);
    }),
    serve(bus, serviceOperations.getSecrets, options, async (request) => {
      checkReplyKey(request.replyKey);
      const outcomes = await deps.getSecret.getSecrets({
        secrets: request.secrets,
        token: request.token,
        caller: caller(request.caller),
      });
      return {
        results: outcomes.map((outcome) =>
          "value" in outcome
            ? { secretName: outcome.secretName, ...answer(outcome.value, outcome.secretName, request) }
            : {
                secretName: outcome.secretName,
                value: "",
                error: {
                  code: outcome.error.code,
                  message: outcome.error.message,
                  reason: outcome.error.reason,
                  violations: [...outcome.error.violations],
                },
              },
        ),
      };
    }),
    serve(bus, serviceOperations.registerToken, options, (request) =>
      deps.registerToken({
        serviceName: request.serviceName,
        serviceVersion: request.serviceVersion,
        token: request.token,
        caller: caller(request.caller),
      }),
    ),
    serve(bus, serviceOperations.authorizeWatch, options, async (request) => ({
      secrets: await deps.authorizeWatch({
        secretNames: request.secretNames,
        token: request.token,
        caller: caller(request.caller),
      }),
    })),
    serve(bus, serviceOperations.approvedTokenKeys, options, () => deps.approvedTokenKeys()),
    serve(bus, serviceOperations.reportThrottled, options, async (request) => {
      await deps.reportThrottled(request.entries);
      return {};
    }),
    serve(bus, serviceOperations.ping, options, async () => {
      await deps.checkReady().catch((cause: unknown) => {
        throw new BusError(ErrorCode.UNAVAILABLE, "The vault's database is unavailable", { cause });
      });
      return { nowMs: Date.now() };
    }),
  ];
}
