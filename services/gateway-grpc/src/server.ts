/**
 * Builds the gateway's gRPC server (SecretsService and the standard health service) without binding it,
 * so `main.ts` binds the configured address and tests bind port 0.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { type Bus, createThrottleReport, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { SecretsServiceService } from "@secrets/proto/secrets";
import { type BackoffPolicy, RateLimiter } from "@secrets/validation";
import { createApprovedTokens } from "./approved-tokens.ts";
import { createAuthBudgets } from "./auth-budgets.ts";
import { trustedProxies } from "./client-address.ts";
import { type GuardedListener, listenGuarded } from "./connection-guard.ts";
import { createGetSecretHandler } from "./get-secret-handler.ts";
import { createGetSecretsHandler } from "./get-secrets-handler.ts";
import { createHealthService } from "./health.ts";
import { HealthService } from "./health-proto.ts";
import { createRegisterTokenHandler } from "./register-token-handler.ts";
import { ReplyKeys } from "./reply-keys.ts";
import { createSecretChangeFeed } from "./secret-change-feed.ts";
import type { ListenCredentials } from "./tls.ts";
import {
  defaultTransportLimits,
  grpcTransportOptions,
  type TransportLimits,
  transportInterceptor,
} from "./transport-limits.ts";
import { decodingLeniently, refusingUndecodable } from "./undecodable-requests.ts";
import { VaultHealth, type VaultHealthOptions } from "./vault-health.ts";
import { createWatchSecretsEndpoint, type WatchLimits } from "./watch-secrets-endpoint.ts";

/** Largest request message accepted: a valid request is at most ~2 KiB, so anything near this is abuse. */
export const defaultMaxMessageBytes = 16 * 1024;

/** WatchSecrets stream limits unless configured. */
export const defaultWatchLimits: WatchLimits = { maxStreams: 10_000, maxStreamsPerPeer: 100 };

/**
 * HTTP/2 pings on every connection, so a proxy or NAT never sees an idle WatchSecrets stream as dead, and
 * a connection whose client vanished is closed instead of holding its streams for ever.
 */
export const defaultKeepalive = { timeMs: 30_000, timeoutMs: 10_000 };

export interface GatewayDeps {
  bus: Bus;
  logger: Logger;
  /** Longest wait for the vault's reply, in ms (the call's deadline may shorten it). */
  vaultTimeoutMs: number;
  rateLimits: {
    /** RegisterToken calls per client address per minute (an approved token's are not counted). */
    registerPerMinute: number;
    /** Unregistered tokens per client address per minute before its unapproved tokens are refused. */
    authFailuresPerMinute: number;
    /** Vault refusals (unknown, pending, denied, revoked) per token per minute; default 10. */
    tokenRefusalsPerMinute?: number;
    /** Addresses and tokens remembered per limiter; default 10,000. */
    maxPeers?: number;
  };
  /** Addresses and CIDR ranges of proxies whose `x-forwarded-for` is believed; default none. */
  trustedProxies?: readonly string[];
  /** Connections from `trustedProxies` start with a PROXY protocol header naming the client. */
  proxyProtocol?: boolean;
  /** When summaries of throttled calls go to the vault (see `throttle-report.ts`). */
  throttleReport?: { quietMs: number; maxWindowMs: number };
  /** How often the approved token keys are fetched without an announcement; default 30 s. */
  approvedTokensRefreshMs?: number;
  /** Milliseconds clock for rate limits and health freshness; default `Date.now`. */
  now?: () => number;
  /** Tuning of the vault pings behind the health service. */
  health?: Pick<VaultHealthOptions, "intervalMs" | "pingTimeoutMs" | "maxAgeMs">;
  /** Largest request message accepted, in bytes; default 16 KiB. */
  maxMessageBytes?: number;
  /** WatchSecrets streams allowed at once, in total and per peer address; default `defaultWatchLimits`. */
  watchLimits?: WatchLimits;
  /** Server keepalive pings: interval and how long an answer may take; default `defaultKeepalive`. */
  keepalive?: { timeMs: number; timeoutMs: number };
  /** Delays between re-checks of a watch while the vault is away; default 250 ms doubling to 5 s. */
  watchRetry?: BackoffPolicy;
  /** Connection, stream, handshake and metadata bounds; default `defaultTransportLimits`. */
  transport?: TransportLimits;
}

export interface GatewayServer {
  /** The grpc-js server, services added, not bound. */
  readonly server: Server;
  /** The vault's health as the health service reports it. */
  readonly health: VaultHealth;
  /** Binds `host:port` (port 0 picks a free one) and resolves with the bound port. */
  listen(host: string, port: number, credentials: ListenCredentials): Promise<number>;
  /** WatchSecrets streams open now. */
  openWatchStreams(): number;
  /**
   * Reports NOT_SERVING, ends every WatchSecrets stream with UNAVAILABLE (clients reconnect), stops
   * accepting calls, lets in-flight calls finish for at most `graceMs`, then cancels what is left and
   * ends the change subscription. The bus is the caller's to close.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** `host:port`, with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function createGatewayServer(deps: GatewayDeps): GatewayServer {
  const now = deps.now ?? Date.now;
  const maxPeers = deps.rateLimits.maxPeers ?? 10_000;
  const keepalive = deps.keepalive ?? defaultKeepalive;
  const transport = deps.transport ?? defaultTransportLimits;
  const listeners: GuardedListener[] = [];
  const server = new Server({
    "grpc.max_receive_message_length": deps.maxMessageBytes ?? defaultMaxMessageBytes,
    "grpc.keepalive_time_ms": keepalive.timeMs,
    "grpc.keepalive_timeout_ms": keepalive.timeoutMs,
    ...grpcTransportOptions(transport),
    interceptors: [transportInterceptor(transport)],
  });
  const vault = {
    bus: deps.bus,
    vaultTimeoutMs: deps.vaultTimeoutMs,
    logger: deps.logger,
    replyKeys: new ReplyKeys(now),
  };
  const trusted = trustedProxies(deps.trustedProxies ?? []);
  const approved = createApprovedTokens({
    bus: deps.bus,
    logger: deps.logger,
    ...(deps.approvedTokensRefreshMs ? { refreshMs: deps.approvedTokensRefreshMs } : {}),
  });
  const throttled = createThrottleReport({
    bus: deps.bus,
    operation: serviceOperations.reportThrottled,
    logger: deps.logger,
    now,
    ...deps.throttleReport,
  });
  // GetSecret, GetSecrets and WatchSecrets share the budgets: each authenticates a token.
  const budgets = createAuthBudgets({
    approved,
    throttled,
    tokenRefusals: new RateLimiter({
      perMinute: deps.rateLimits.tokenRefusalsPerMinute ?? 10,
      maxKeys: maxPeers,
      now,
    }),
    unknownTokens: new RateLimiter({
      perMinute: deps.rateLimits.authFailuresPerMinute,
      maxKeys: maxPeers,
      now,
    }),
  });
  const callers = { budgets, trustedProxies: trusted };
  const feed = createSecretChangeFeed({ bus: deps.bus, logger: deps.logger });
  const watch = createWatchSecretsEndpoint({
    ...vault,
    feed,
    ...callers,
    limits: deps.watchLimits ?? defaultWatchLimits,
    ...(deps.watchRetry ? { retry: deps.watchRetry } : {}),
  });
  // An undecodable message gets INVALID_ARGUMENT, not grpc-js's INTERNAL.
  server.addService(
    decodingLeniently(SecretsServiceService),
    refusingUndecodable(
      {
        getSecret: createGetSecretHandler({ ...vault, ...callers }),
        getSecrets: createGetSecretsHandler({ ...vault, ...callers }),
        registerToken: createRegisterTokenHandler({
          ...vault,
          approved,
          throttled,
          trustedProxies: trusted,
          registrations: new RateLimiter({
            perMinute: deps.rateLimits.registerPerMinute,
            maxKeys: maxPeers,
            now,
          }),
        }),
        watchSecrets: watch.handler,
      },
      deps.logger,
    ),
  );
  const health = new VaultHealth({ bus: deps.bus, logger: deps.logger, now, ...deps.health });
  const healthEndpoint = createHealthService(health);
  server.addService(
    decodingLeniently(HealthService),
    refusingUndecodable(healthEndpoint.implementation, deps.logger),
  );
  health.start();

  return {
    server,
    health,
    openWatchStreams: () => watch.openStreams(),
    // Our own listener admits connections and terminates TLS (see connection-guard.ts); grpc-js serves
    // HTTP/2 on what it hands over.
    async listen(host, port, credentials) {
      const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
      const listener = await listenGuarded({
        host,
        port,
        credentials,
        limits: transport,
        inject: (connection) => injector.injectConnection(connection),
        logger: deps.logger,
        ...(deps.proxyProtocol ? { proxyProtocolFrom: trusted } : {}),
      });
      listeners.push(listener);
      return listener.port;
    },
    async shutdown(graceMs) {
      health.stop();
      healthEndpoint.endWatches();
      watch.endAll();
      for (const listener of listeners) listener.stopAccepting();
      const graceEnds = Date.now() + graceMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Bun reports sessions closed before their calls finish: wait for the connections themselves.
      while (Date.now() < graceEnds && listeners.some((listener) => listener.openConnections() > 0)) {
        await Bun.sleep(20);
      }
      for (const listener of listeners) listener.destroyAll();
      await Promise.all([approved.close(), throttled.close()]).catch((error: unknown) => {
        deps.logger.warn("could not report the last throttled calls", { error });
      });
      await feed.close().catch((error: unknown) => {
        deps.logger.warn("could not end the secret change subscription", { error });
      });
    },
  };
}
