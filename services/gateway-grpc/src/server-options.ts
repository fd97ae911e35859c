/**
 * The gateway server's settings from its configuration: one mapping, used by `main.ts` and by the
 * embedded mode, so no setting is honoured by one and dropped by the other.
 */
import type { GatewayConfig } from "./config.ts";
import type { GatewayDeps } from "./server.ts";
import { transportLimitsFromConfig } from "./transport-limits.ts";

export function gatewayServerOptions(config: GatewayConfig): Omit<GatewayDeps, "bus" | "logger"> {
  return {
    vaultTimeoutMs: config.vaultTimeoutMs,
    rateLimits: {
      registerPerMinute: config.rateLimitRegisterPerMinute,
      authFailuresPerMinute: config.rateLimitAuthFailuresPerMinute,
      tokenRefusalsPerMinute: config.rateLimitTokenRefusalsPerMinute,
    },
    trustedProxies: config.trustedProxies,
    proxyProtocol: config.proxyProtocol,
    watchLimits: { maxStreams: config.watchMaxStreams, maxStreamsPerPeer: config.watchMaxStreamsPerPeer },
    keepalive: { timeMs: config.keepaliveTimeMs, timeoutMs: config.keepaliveTimeoutMs },
    transport: transportLimitsFromConfig(config),
  };
}
