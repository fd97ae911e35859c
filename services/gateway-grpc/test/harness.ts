/**
 * Test harness for the gateway: a real grpc-js server over TLS on port 0, a real grpc-js client trusting
 * the generated CA, a MemoryBus on which tests serve fake vault handlers, and a logger that keeps lines.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CallOptions,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
  type StatusObject,
} from "@grpc/grpc-js";
import { type Bus, MemoryBus, type RequestOptions } from "@secrets/bus";
import { createLogger, type Logger } from "@secrets/logger";
import {
  type GetSecretRequest,
  type GetSecretResponse,
  type RegisterTokenRequest,
  type RegisterTokenResponse,
  SecretsServiceClient,
} from "@secrets/proto/secrets";
import { HealthClient } from "../src/health-proto.ts";
import { createGatewayServer, type GatewayDeps, type GatewayServer } from "../src/server.ts";
import { ensureGeneratedTls } from "../src/tls-store.ts";

/** Generated TLS material in a temporary data directory. */
export async function generatedTls() {
  const dataDir = mkdtempSync(join(tmpdir(), "gateway-tls-"));
  const tls = await ensureGeneratedTls({ dataDir });
  return {
    dataDir,
    caCertPem: readFileSync(tls.caCertPath),
    server: { kind: "tls", certPem: tls.server.certPem, keyPem: tls.server.keyPem } as const,
    dispose: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A MemoryBus that remembers the options of every request, to check the timeouts the gateway asks for. */
export class RecordingBus extends MemoryBus {
  readonly requests: { subject: string; timeoutMs: number }[] = [];

  override request(subject: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    this.requests.push({ subject, timeoutMs: options.timeoutMs });
    return super.request(subject, payload, options);
  }
}

/** A logger whose lines are kept, parsed. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "gateway-grpc",
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export interface Harness {
  bus: Bus;
  gateway: GatewayServer;
  port: number;
  client: SecretsServiceClient;
  health: HealthClient;
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

let tlsOnce: ReturnType<typeof generatedTls> | undefined;

/** Starts a gateway over TLS on port 0 with a client trusting its CA. */
export async function startGateway(overrides: Partial<GatewayDeps> = {}): Promise<Harness> {
  tlsOnce ??= generatedTls();
  const tls = await tlsOnce;
  const { logger, lines } = capturingLogger();
  const bus = overrides.bus ?? new MemoryBus({ namespace: "test", logger, closeGraceMs: 50 });
  const gateway = createGatewayServer({
    bus,
    logger,
    vaultTimeoutMs: 5_000,
    rateLimits: { registerPerMinute: 1_000, authFailuresPerMinute: 1_000 },
    ...overrides,
  });
  const port = await gateway.listen("127.0.0.1", 0, tls.server);
  // Bun's TLS refuses an IP address as the server name: clients target localhost.
  const target = `localhost:${port}`;
  const channel = credentials.createSsl(tls.caCertPem);
  const client = new SecretsServiceClient(target, channel, { "grpc.primary_user_agent": "harness-sdk/1.0" });
  const health = new HealthClient(target, channel);
  return {
    bus,
    gateway,
    port,
    client,
    health,
    lines,
    async close() {
      client.close();
      health.close();
      await gateway.shutdown(1_000);
      await bus.close();
    },
  };
}

export interface CallResult<Res> {
  response?: Res;
  error?: ServiceError;
  initial: Metadata;
  trailers: Metadata;
  elapsedMs: number;
}

type Invoke<Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallOptionsForTest {
  metadata?: Record<string, string>;
  /** Default 5 s, so no test can hang on a call. */
  deadlineMs?: number;
}

/** Makes a unary call and collects the response or error, both metadata sets and the time taken. */
export function call<Res>(invoke: Invoke<Res>, options: CallOptionsForTest = {}): Promise<CallResult<Res>> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const started = performance.now();
  return new Promise((resolve) => {
    const result: CallResult<Res> = { initial: new Metadata(), trailers: new Metadata(), elapsedMs: 0 };
    let pending = 2;
    const settle = () => {
      if (--pending > 0) return;
      result.elapsedMs = performance.now() - started;
      resolve(result);
    };
    const deadline = new Date(Date.now() + (options.deadlineMs ?? 5_000));
    const handle = invoke(metadata, { deadline }, (error, response) => {
      if (error) result.error = error;
      else result.response = response;
      settle();
    });
    handle.on("metadata", (initial: Metadata) => {
      result.initial = initial;
    });
    handle.on("status", (status: StatusObject) => {
      result.trailers = status.metadata;
      settle();
    });
  });
}

export function getSecret(h: Harness, request: GetSecretRequest, options?: CallOptionsForTest) {
  return call<GetSecretResponse>((md, o, cb) => h.client.getSecret(request, md, o, cb), options);
}

export function registerToken(h: Harness, request: RegisterTokenRequest, options?: CallOptionsForTest) {
  return call<RegisterTokenResponse>((md, o, cb) => h.client.registerToken(request, md, o, cb), options);
}

/** The first value of a metadata key as text. */
export function text(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}
