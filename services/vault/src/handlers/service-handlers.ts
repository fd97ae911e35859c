import {
  type Bus,
  BusError,
  ErrorCode,
  type Subscription,
  serve,
  serviceOperations,
  vaultQueue,
} from "@secrets/bus";
import type { CallerContext } from "@secrets/proto/vault";
import type { CallerFacts, GetSecretService } from "../secrets/get-secret-service.ts";
import type { WatchService } from "../secrets/watch-service.ts";
import type { createRegisterTokenService } from "../service-tokens/register-token-service.ts";

export interface ServiceHandlerDeps {
  getSecret: GetSecretService;
  registerToken: ReturnType<typeof createRegisterTokenService>;
  authorizeWatch: WatchService;
  /** Resolves when the vault can serve (its database answers); rejects otherwise. */
  checkReady: () => Promise<void>;
}

function caller(context: CallerContext | undefined): CallerFacts {
  return {
    requestId: context?.requestId ?? "",
    ipAddress: context?.ipAddress ?? "",
    userAgent: context?.userAgent ?? "",
  };
}

/** Serves the service-facing operations (requested by the gateway) in the vault's queue group. */
export function serveServiceOperations(bus: Bus, deps: ServiceHandlerDeps): Subscription[] {
  const options = { queue: vaultQueue };
  return [
    serve(bus, serviceOperations.getSecret, options, async (request) => ({
      value: await deps.getSecret.getSecret({
        secretName: request.secretName,
        description: request.description,
        token: request.token,
        caller: caller(request.caller),
      }),
    })),
    serve(bus, serviceOperations.getSecrets, options, async (request) => {
      const outcomes = await deps.getSecret.getSecrets({
        secrets: request.secrets,
        token: request.token,
        caller: caller(request.caller),
      });
      return {
        results: outcomes.map((outcome) =>
          "value" in outcome
            ? { secretName: outcome.secretName, value: outcome.value }
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
    serve(bus, serviceOperations.ping, options, async () => {
      await deps.checkReady().catch((cause: unknown) => {
        throw new BusError(ErrorCode.UNAVAILABLE, "The vault's database is unavailable", { cause });
      });
      return { nowMs: Date.now() };
    }),
  ];
}
