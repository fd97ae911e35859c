/**
 * The transport over grpc-js: one channel per client, reconnecting on its own after a gateway restart
 * (calls fail fast with UNAVAILABLE while it is down; the next call after it is back succeeds).
 */
import { readFileSync } from "node:fs";
import { type ChannelOptions, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type SecretChange, type SecretResult, SecretsServiceClient } from "@secrets/proto/secrets";
import { SecretsConfigurationError } from "./errors.ts";
import type {
  BatchSecretResult,
  CallFailure,
  CallResult,
  SecretsTransport,
  WatchHandle,
  WatchHandlers,
} from "./transport.ts";

export interface GrpcTransportOptions {
  /** `host:port` of a gateway. */
  address: string;
  /** PEM file of the CA that signed the gateway's certificate; unset: the system's trusted CAs. */
  caFile?: string;
  /** The name to expect in the gateway's certificate instead of the address's host. */
  tlsServerName?: string;
  /** Plaintext gRPC. */
  insecure: boolean;
  userAgent: string;
}

const reasonKey = "secrets-reason";
const requestIdKey = "secrets-request-id";

type Start<Res> = (
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response?: Res) => void,
) => { on(event: "status", listener: (s: { metadata: Metadata }) => void): unknown };

function channelCredentials(options: GrpcTransportOptions) {
  if (options.insecure) return credentials.createInsecure();
  if (!options.caFile) return credentials.createSsl();
  let ca: Buffer;
  try {
    ca = readFileSync(options.caFile);
  } catch (error) {
    throw new SecretsConfigurationError(
      `Cannot read the gateway's CA certificate ${options.caFile}: set caFile to the gateway's ca.crt ` +
        "(by default <gateway data dir>/tls/ca.crt)",
      { reason: "CA_FILE", cause: error },
    );
  }
  return credentials.createSsl(ca);
}

/** Connects lazily: creating it reads the CA file, the first call opens the connection. */
export function createGrpcTransport(options: GrpcTransportOptions): SecretsTransport {
  const channelOptions: ChannelOptions = {
    "grpc.primary_user_agent": options.userAgent,
    // grpc-js backs off up to 2 minutes between reconnection attempts; a restarted gateway should be
    // found again within seconds.
    "grpc.initial_reconnect_backoff_ms": 250,
    "grpc.max_reconnect_backoff_ms": 5_000,
    // Pings while a call (a WatchSecrets stream) is open, so a gateway that vanished without closing the
    // connection is noticed within ~40 s and the stream is opened again.
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
  };
  if (options.tlsServerName) channelOptions["grpc.ssl_target_name_override"] = options.tlsServerName;
  const client = new SecretsServiceClient(options.address, channelCredentials(options), channelOptions);

  /**
   * Resolves once both the callback and the status have arrived: under Bun the trailers (with the
   * `secrets-reason`) are read from the status event, which grpc-js emits right after the callback.
   */
  function settle<Res>(start: Start<Res>, token: string, timeoutMs: number): Promise<CallResult<Res>> {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    return new Promise((resolve) => {
      let trailers: Metadata | undefined;
      let result: { error: ServiceError | null; response?: Res | undefined } | undefined;
      const finish = () => {
        if (!result || !trailers) return;
        const first = (key: string) =>
          String(trailers?.get(key)[0] ?? result?.error?.metadata?.get(key)[0] ?? "");
        if (result.error || result.response === undefined) {
          const code = result.error?.code ?? status.INTERNAL;
          resolve({
            ok: false,
            failure: {
              code: status[code] ?? String(code),
              details: result.error?.details ?? "empty response",
              reason: first(reasonKey),
              requestId: first(requestIdKey),
            },
          });
        } else {
          resolve({ ok: true, response: result.response, requestId: first(requestIdKey) });
        }
      };
      try {
        const call = start(metadata, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
          result = { error, response };
          finish();
        });
        call.on("status", (s) => {
          trailers = s.metadata;
          finish();
        });
      } catch (error) {
        const details = error instanceof Error ? error.message : String(error);
        resolve({ ok: false, failure: { code: "UNAVAILABLE", details, reason: "", requestId: "" } });
      }
    });
  }

  /** A server stream of changes; its end is reported once, from the status (trailers included). */
  function watchSecrets(
    request: { secretNames: readonly string[] },
    token: string,
    handlers: WatchHandlers,
  ): WatchHandle {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    let ended = false;
    const end = (failure: CallFailure | undefined) => {
      if (ended) return;
      ended = true;
      handlers.onEnd(failure);
    };
    let call: ReturnType<typeof client.watchSecrets>;
    try {
      call = client.watchSecrets({ secretNames: [...request.secretNames], token: "" }, metadata);
    } catch (error) {
      const details = error instanceof Error ? error.message : String(error);
      queueMicrotask(() => end({ code: "UNAVAILABLE", details, reason: "", requestId: "" }));
      return {
        cancel() {
          ended = true;
        },
      };
    }
    let requestId = "";
    call.on("metadata", (initial: Metadata) => {
      requestId = String(initial.get(requestIdKey)[0] ?? "");
      if (!ended) handlers.onOpen(requestId);
    });
    call.on("data", (change: SecretChange) => {
      if (!ended)
        handlers.onChange({
          secretName: change.secretName,
          version: change.version,
          deleted: change.deleted,
        });
    });
    // The status event below reports every end; without a listener an error event would throw.
    call.on("error", () => {});
    call.on("status", (s: { code: status; details: string; metadata: Metadata }) => {
      if (s.code === status.OK) return end(undefined);
      end({
        code: status[s.code] ?? String(s.code),
        details: s.details,
        reason: String(s.metadata.get(reasonKey)[0] ?? ""),
        requestId: String(s.metadata.get(requestIdKey)[0] ?? requestId),
      });
    });
    return {
      cancel() {
        ended = true;
        call.cancel();
      },
    };
  }

  function batchResult(result: SecretResult): BatchSecretResult {
    const { secretName } = result;
    if (result.success) return { secretName, ok: true, value: result.value };
    const code = status[result.code] ?? String(result.code);
    return { secretName, ok: false, failure: { code, details: result.errorMessage, reason: result.reason } };
  }

  return {
    watchSecrets,
    async getSecrets(request, token, timeoutMs) {
      const result = await settle<{ results: SecretResult[] }>(
        (metadata, callOptions, callback) =>
          client.getSecrets({ secrets: [...request.secrets], token: "" }, metadata, callOptions, callback),
        token,
        timeoutMs,
      );
      if (!result.ok) return result;
      return {
        ok: true,
        requestId: result.requestId,
        response: { results: result.response.results.map(batchResult) },
      };
    },
    registerToken: (request, token, timeoutMs) =>
      settle(
        (metadata, callOptions, callback) =>
          client.registerToken({ ...request, token: "" }, metadata, callOptions, callback),
        token,
        timeoutMs,
      ),
    getSecret: (request, token, timeoutMs) =>
      settle<{ value: string }>(
        (metadata, callOptions, callback) =>
          client.getSecret({ ...request, token: "" }, metadata, callOptions, callback),
        token,
        timeoutMs,
      ),
    close: () => client.close(),
  };
}
