/**
 * The standard `grpc.health.v1.Health` service. The server as a whole ("") and SecretsService are
 * SERVING while the vault answers pings and NOT_SERVING otherwise; any other name is NOT_FOUND (Check)
 * or SERVICE_UNKNOWN (Watch), as the protocol says.
 */
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import { deadlineMarginMs, deadlineMs } from "./deadline.ts";
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
  ServingStatus,
} from "./health-proto.ts";
import type { VaultHealth } from "./vault-health.ts";

/** The services this server reports on. */
export const healthServiceNames = ["", "secrets.v1.SecretsService"] as const;

const known = new Set<string>(healthServiceNames);

function toStatus(serving: boolean): ServingStatus {
  return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}

/** Resolves with `promise`'s value, or with `fallback()` once `ms` has passed. */
function within<T>(promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), Math.max(0, ms));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export interface HealthEndpoint {
  implementation: HealthServer;
  /** Sends NOT_SERVING to every open Watch and ends it, so a graceful shutdown does not wait on them. */
  endWatches(): void;
}

export function createHealthService(health: VaultHealth): HealthEndpoint {
  /** Open Watch streams, each with what stops its updates. */
  const watches = new Map<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>, () => void>();
  const forget = (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
    watches.get(call)?.();
    watches.delete(call);
  };

  const implementation: HealthServer = {
    check(call, callback) {
      const service = call.request.service;
      if (!known.has(service)) {
        callback({ code: status.NOT_FOUND, details: `Unknown service "${service.slice(0, 200)}"` });
        return;
      }
      // Answer within the caller's deadline even when the vault hangs: the last known status then.
      const budget = deadlineMs(call.getDeadline()) - Date.now() - deadlineMarginMs;
      void within(health.current(), budget, () => health.isServing()).then((serving) =>
        callback(null, { status: toStatus(serving) }),
      );
    },

    list(_call, callback) {
      void health.current().then((serving) => {
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const name of healthServiceNames) statuses[name] = { status: toStatus(serving) };
        callback(null, { statuses });
      });
    },

    watch(call) {
      if (!known.has(call.request.service)) {
        // The protocol keeps the stream open: the service might become known later (it never does here).
        call.write({ status: ServingStatus.SERVICE_UNKNOWN });
        watches.set(call, () => {});
        call.on("cancelled", () => forget(call));
        return;
      }
      let last: ServingStatus | undefined;
      const send = (serving: boolean) => {
        const next = toStatus(serving);
        if (next === last) return;
        last = next;
        call.write({ status: next });
      };
      watches.set(call, health.onChange(send));
      call.on("cancelled", () => forget(call));
      send(health.isServing());
      void health.current().then((serving) => {
        if (watches.has(call)) send(serving);
      });
    },
  };

  return {
    implementation,
    endWatches() {
      for (const call of [...watches.keys()]) {
        forget(call);
        call.write({ status: ServingStatus.NOT_SERVING });
        call.end();
      }
    },
  };
}
