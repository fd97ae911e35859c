/**
 * The gateway's listening socket, in front of grpc-js: it counts connections per client address and in
 * total, closes a connection that has not finished TLS and sent the HTTP/2 preface in time, terminates
 * TLS with the AEAD-only policy of `tls.ts`, and hands each connection, wrapped by the header-block
 * guard, to grpc-js through its connection injector.
 *
 * Why not grpc-js's own listener: it takes no connection limits or handshake timeout, and Bun's
 * `tls.Server` reports `handshakeTimeout` (tlsClientError) without closing the socket.
 */

import { createServer, isIP, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { Logger } from "@secrets/logger";
import { addressKey } from "@secrets/validation";
import { normalAddress, type TrustedProxies } from "./client-address.ts";
import { guardHeaderBlocks } from "./header-block-guard.ts";
import { readProxyHeader } from "./proxy-protocol.ts";
import { type ListenCredentials, serverTlsPolicy } from "./tls.ts";
import type { TransportLimits } from "./transport-limits.ts";

/** How the listener secures connections: a certificate chain and key, or plaintext (development only). */
export interface GuardedListener {
  readonly port: number;
  /** Connections open now, in total. */
  openConnections(): number;
  /** Stops accepting; connections already open are left to grpc-js's shutdown. */
  stopAccepting(): void;
  /** Destroys every connection still open. */
  destroyAll(): void;
}

export interface GuardedListenerOptions {
  host: string;
  port: number;
  credentials: ListenCredentials;
  limits: TransportLimits;
  /** Receives each admitted connection, speaking HTTP/2 in the clear. */
  inject: (connection: Duplex) => void;
  /**
   * Balancers whose connections start with a PROXY protocol header naming the client (see
   * `proxy-protocol.ts`); a connection from one without a valid header is closed. Unset: none.
   */
  proxyProtocolFrom?: TrustedProxies;
  logger: Logger;
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function clientAddress(socket: Socket): string {
  return normalAddress(socket.remoteAddress ?? "") || "unknown";
}

/** From now on the socket reports `address` as its peer: grpc-js, the budgets and the audit see the client. */
function speakFor(socket: Socket, address: string): void {
  Object.defineProperty(socket, "remoteAddress", { get: () => address, configurable: true });
  Object.defineProperty(socket, "remoteFamily", {
    get: () => (isIP(address) === 6 ? "IPv6" : "IPv4"),
    configurable: true,
  });
}

/** Logs refusals at most once per interval, with how many there were, so a flood cannot flood the log. */
function refusalLog(logger: Logger, intervalMs = 10_000) {
  const counts = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (reason: string) => {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    timer ??= setTimeout(() => {
      timer = undefined;
      for (const [why, count] of counts) logger.warn("connections refused", { reason: why, count });
      counts.clear();
    }, intervalMs);
    timer.unref?.();
  };
}

export function listenGuarded(options: GuardedListenerOptions): Promise<GuardedListener> {
  const { limits, logger } = options;
  const perAddress = new Map<string, number>();
  const open = new Set<Socket>();
  const refused = refusalLog(logger);
  const context: SecureContext | undefined =
    options.credentials.kind === "tls"
      ? createSecureContext({
          cert: options.credentials.certPem,
          key: options.credentials.keyPem,
          ...serverTlsPolicy,
        })
      : undefined;

  const proxies = options.proxyProtocolFrom;
  const accept = (socket: Socket) => {
    if (!proxies?.has(clientAddress(socket))) return admit(socket);
    socket.on("error", () => socket.destroy());
    readProxyHeader(socket, limits.handshakeTimeoutMs).then(
      (address) => {
        if (address !== "") speakFor(socket, normalAddress(address) || address);
        admit(socket);
      },
      (error: unknown) => {
        refused(
          `no valid PROXY header from a trusted proxy (${error instanceof Error ? error.message : error})`,
        );
        socket.destroy();
      },
    );
  };

  const admit = (socket: Socket) => {
    const address = addressKey(clientAddress(socket));
    const fromAddress = perAddress.get(address) ?? 0;
    if (open.size >= limits.maxConnections) {
      refused("GRPC_MAX_CONNECTIONS reached");
      socket.destroy();
      return;
    }
    if (fromAddress >= limits.maxConnectionsPerAddress) {
      refused("GRPC_MAX_CONNECTIONS_PER_ADDRESS reached");
      socket.destroy();
      return;
    }
    open.add(socket);
    perAddress.set(address, fromAddress + 1);
    socket.once("close", () => {
      open.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    const handshake = setTimeout(() => {
      refused("GRPC_HANDSHAKE_TIMEOUT_MS passed before TLS and the HTTP/2 preface");
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    handshake.unref?.();
    socket.once("close", () => clearTimeout(handshake));
    const guard = (connection: Duplex & Socket) =>
      options.inject(
        guardHeaderBlocks(connection, {
          maxMetadataBytes: limits.maxMetadataBytes,
          onPreface: () => clearTimeout(handshake),
          onViolation: (reason) => logger.info("closed a connection that broke HTTP/2", { address, reason }),
        }),
      );
    if (!context) {
      guard(socket);
      return;
    }
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ["h2"] });
    secure.on("error", () => socket.destroy());
    secure.once("secure", () => {
      // gRPC is HTTP/2 only; a client that negotiated something else cannot be served.
      if (secure.alpnProtocol !== "h2" && secure.alpnProtocol !== false) {
        socket.destroy();
        return;
      }
      // Bun's wrapped TLS socket does not always report the peer, and never the one a PROXY header
      // named: the raw socket's address is the client's.
      for (const key of ["remoteAddress", "remotePort", "remoteFamily"] as const) {
        Object.defineProperty(secure, key, { get: () => socket[key], configurable: true });
      }
      guard(secure);
    });
  };

  const server: Server = createServer(accept);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      server.on("error", (error) => logger.error("gRPC listener error", { error }));
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : options.port,
        openConnections: () => open.size,
        stopAccepting: () => server.close(),
        destroyAll: () => {
          for (const socket of open) socket.destroy();
        },
      });
    });
  });
}
