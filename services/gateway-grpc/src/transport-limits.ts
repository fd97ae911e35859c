/**
 * The gateway's transport bounds: what one client may hold open (connections, streams, headers, idle
 * time) before it has authenticated at all. `connection-guard.ts` enforces the connection-level ones in
 * front of grpc-js; grpc-js enforces streams per connection and connection idle/age (all verified on
 * Bun, see SECURITY.md); the interceptor here ends calls whose request message never comes and refuses
 * oversized metadata with a status instead of a reset.
 */
import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
  status,
} from "@grpc/grpc-js";
import type { GatewayConfig } from "./config.ts";
import { oversizeMarker } from "./header-block-guard.ts";

export interface TransportLimits {
  /** Streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); more get REFUSED_STREAM. */
  maxConcurrentStreams: number;
  /** Connections open at once, all clients together; more are closed at once. */
  maxConnections: number;
  /** Connections open at once from one client address; more are closed at once. */
  maxConnectionsPerAddress: number;
  /** Time from TCP accept to the end of the TLS handshake and the HTTP/2 preface. */
  handshakeTimeoutMs: number;
  /** A connection with no call open for this long is closed (GOAWAY). */
  maxConnectionIdleMs: number;
  /** A connection is asked to go away (GOAWAY) after this long, so no client holds one for ever. */
  maxConnectionAgeMs: number;
  /** After `maxConnectionAgeMs`, how long calls still open may take before the connection is cut. */
  maxConnectionAgeGraceMs: number;
  /** A call whose request message has not arrived after this long is ended (DEADLINE_EXCEEDED). */
  requestMessageTimeoutMs: number;
  /** Largest request header list (names + values + 32 per entry) accepted; larger: RESOURCE_EXHAUSTED. */
  maxMetadataBytes: number;
}

export const defaultTransportLimits: TransportLimits = {
  maxConcurrentStreams: 100,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 100,
  handshakeTimeoutMs: 10_000,
  maxConnectionIdleMs: 300_000,
  maxConnectionAgeMs: 3_600_000,
  maxConnectionAgeGraceMs: 60_000,
  requestMessageTimeoutMs: 10_000,
  maxMetadataBytes: 8_192,
};

/** The configuration's `// Transport bounds` block as the server takes it. */
export function transportLimitsFromConfig(config: GatewayConfig): TransportLimits {
  return {
    maxConcurrentStreams: config.grpcMaxConcurrentStreams,
    maxConnections: config.grpcMaxConnections,
    maxConnectionsPerAddress: config.grpcMaxConnectionsPerAddress,
    handshakeTimeoutMs: config.grpcHandshakeTimeoutMs,
    maxConnectionIdleMs: config.grpcMaxConnectionIdleMs,
    maxConnectionAgeMs: config.grpcMaxConnectionAgeMs,
    maxConnectionAgeGraceMs: config.grpcMaxConnectionAgeGraceMs,
    requestMessageTimeoutMs: config.grpcRequestMessageTimeoutMs,
    maxMetadataBytes: config.grpcMaxMetadataBytes,
  };
}

/** The grpc-js server options that carry the limits grpc-js itself enforces. */
export function grpcTransportOptions(limits: TransportLimits) {
  return {
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.max_connection_idle_ms": limits.maxConnectionIdleMs,
    "grpc.max_connection_age_ms": limits.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": limits.maxConnectionAgeGraceMs,
  };
}

/** Size of a header list as HTTP/2 counts it; grpc-js has already taken out its own transport headers. */
function metadataBytes(metadata: Metadata): number {
  let bytes = 0;
  for (const [key, values] of Object.entries(metadata.getMap())) {
    bytes += key.length + 32 + (Buffer.isBuffer(values) ? values.length : Buffer.byteLength(String(values)));
  }
  return bytes;
}

/**
 * grpc-js keeps a stream that has sent its status but that the client never closes; resetting it frees
 * the stream at once. grpc-js offers no public handle on the HTTP/2 stream, so the chain of intercepting
 * calls is walked to the base call's `stream` (present in grpc-js 1.10 to 1.14; absent, only the status
 * is sent).
 */
function resetStream(call: ServerInterceptingCallInterface): void {
  let next: unknown = call;
  for (let depth = 0; depth < 16 && typeof next === "object" && next !== null; depth++) {
    const candidate = next as {
      stream?: { close?: (code: number) => void; closed?: boolean };
      nextCall?: unknown;
    };
    if (candidate.stream?.close) {
      if (!candidate.stream.closed) candidate.stream.close(0);
      return;
    }
    next = candidate.nextCall;
  }
}

/**
 * Ends a call whose request message has not arrived within `requestMessageTimeoutMs` (grpc-js calls a
 * unary handler only once the message is in, so a headers-only stream would otherwise wait for ever),
 * and refuses metadata over `maxMetadataBytes`, including what the header-block guard marked.
 */
export function transportInterceptor(limits: TransportLimits): ServerInterceptor {
  return (_method, call) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const end = (code: status, details: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      call.sendStatus({ code, details, metadata: new Metadata() });
      resetStream(call);
    };
    return new ServerInterceptingCall(call, {
      start(next) {
        timer = setTimeout(
          () =>
            end(
              status.DEADLINE_EXCEEDED,
              `no request message arrived within ${limits.requestMessageTimeoutMs} ms of the call's headers`,
            ),
          limits.requestMessageTimeoutMs,
        );
        const listener: ServerListener = {
          onReceiveMetadata(metadata, nextMetadata) {
            const marked = metadata.get(oversizeMarker)[0];
            const bytes = marked === undefined ? metadataBytes(metadata) : Number(marked);
            if (marked !== undefined || bytes > limits.maxMetadataBytes) {
              end(
                status.RESOURCE_EXHAUSTED,
                `request metadata is ${bytes} bytes; the gateway accepts at most ${limits.maxMetadataBytes} (GRPC_MAX_METADATA_BYTES)`,
              );
              return;
            }
            nextMetadata(metadata);
          },
          onReceiveMessage(message, nextMessage) {
            clearTimeout(timer);
            if (!ended) nextMessage(message);
          },
          onCancel() {
            ended = true;
            clearTimeout(timer);
          },
        };
        next(listener);
      },
      sendStatus(callStatus, nextStatus) {
        clearTimeout(timer);
        nextStatus(callStatus);
      },
    });
  };
}
