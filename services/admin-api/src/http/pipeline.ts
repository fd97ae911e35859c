/**
 * What every request goes through, whatever its route: a request id and client address, the security
 * headers, the size-limited JSON parser, the one error mapping, and one log line when it is answered.
 */
import type { Logger } from "@secrets/logger";
import { Elysia, ValidationError } from "elysia";
import { mapError } from "./error-map.ts";
import { parseJsonBody } from "./json-body.ts";
import { clientAddress, requestState, startRequest } from "./request-state.ts";

export interface PipelineOptions {
  logger: Logger;
  trustProxy: boolean;
  maxBodyBytes: number;
  /** Routes polled by probes (`/healthz`): their request lines are logged at debug level. */
  quietRoutes?: readonly string[];
}

/** Sent with every response: nothing is cached, sniffed, framed or leaked through the Referer. */
export const securityHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
} as const;

export function requestPipeline(options: PipelineOptions) {
  const { logger } = options;
  return new Elysia({ name: "request-pipeline" })
    .onRequest(({ request, server, set }) => {
      const state = startRequest(request, {
        requestId: Bun.randomUUIDv7(),
        startedAt: performance.now(),
        ipAddress: clientAddress(request, server, options.trustProxy),
        userAgent: request.headers.get("user-agent") ?? "",
      });
      Object.assign(set.headers, securityHeaders, { "x-request-id": state.requestId });
    })
    .onParse(({ request }) => parseJsonBody(request, options.maxBodyBytes))
    .onError(({ request, error, set }) => {
      const state = requestState(request);
      const result = mapError(error, state.requestId);
      if (result.internal) {
        // A ValidationError's message quotes the input (a value, perhaps): log where it failed, never what.
        const detail =
          error instanceof ValidationError
            ? { validation: error.type, paths: error.all.map((issue) => issue.path) }
            : { error };
        logger.error("request failed", { requestId: state.requestId, status: result.status, ...detail });
      }
      Object.assign(set.headers, securityHeaders, result.headers, { "x-request-id": state.requestId });
      set.status = result.status;
      return result.body;
    })
    .onAfterResponse(({ request, route, set }) => {
      const state = requestState(request);
      const quiet = route !== undefined && options.quietRoutes?.includes(route);
      logger[quiet ? "debug" : "info"]("request", {
        method: request.method,
        route: route ?? null,
        status: set.status,
        durationMs: Math.round((performance.now() - state.startedAt) * 10) / 10,
        requestId: state.requestId,
        actor: state.principal?.actor ?? null,
      });
    })
    .as("global");
}
