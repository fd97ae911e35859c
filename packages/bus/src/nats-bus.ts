import { readFileSync } from "node:fs";
import type { Logger } from "@secrets/logger";
import {
  type ConnectionOptions,
  credsAuthenticator,
  DiscardPolicy,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type Msg,
  type NatsConnection,
  NatsError,
  ErrorCode as NatsErrorCode,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "nats";
import type {
  Bus,
  ConsumerSpec,
  DurableAck,
  DurableConsumer,
  MessageHandler,
  RequestHandler,
  RequestOptions,
  StreamSpec,
  StreamState,
  Subscription,
} from "./bus.ts";
import { decodeReply, encodeError, encodeOk } from "./envelope.ts";
import { BusError, ErrorCode } from "./errors.ts";
import type { Lease, LeaseOptions } from "./lease.ts";
import { absoluteStreamName, absoluteSubject, assertNamespace } from "./namespace.ts";
import { natsConsumer } from "./nats-consumer.ts";
import { natsLease, openLeaseBucket } from "./nats-lease.ts";
import { connectCoalescing } from "./nats-transport.ts";
import { settleWithin } from "./settle.ts";

/** JetStream's error code for "replicas > 1 not supported in non-clustered mode". */
const replicasNeedClusterCode = 10074;

export interface NatsBusOptions {
  /** One or more server URLs, comma-separated. */
  url: string;
  namespace: string;
  logger: Logger;
  /** Connection name shown by the server's monitoring (the process's role). */
  name: string;
  user?: string;
  password?: string;
  /** Path to a NATS `.creds` file (JWT and nkey seed). */
  credsFile?: string;
  /**
   * TLS to the NATS server: trust `caFile` (PEM) and refuse a plaintext or unverified connection; with
   * `certFile` and `keyFile`, present that client certificate to a server that verifies clients.
   */
  tls?: NatsTlsFiles;
  /**
   * Prefix of this client's reply subjects (default `_INBOX`). A per-service prefix lets the server's
   * permissions give each service only its own replies (`_INBOX_gateway.>`), so no service can listen in
   * on another's answers.
   */
  inboxPrefix?: string;
  /** Pause between reconnection attempts; the client reconnects forever. */
  reconnectWaitMs?: number;
  /** How long `close()` lets in-flight handlers finish before closing anyway (default 5 s). */
  closeGraceMs?: number;
  /**
   * Copies JetStream keeps of every stream, consumer and lease bucket this bus creates
   * (`AUDIT_STREAM_REPLICAS`, default 1). More than one needs a JetStream cluster of that many nodes.
   */
  replicas?: number;
}

export interface NatsTlsFiles {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * Connects to NATS; keeps retrying while the server is not up yet, and reconnects forever afterwards.
 * When the first attempt fails, the reason (refused, a TLS or an authorization failure) is logged once
 * before the retries, so a misconfiguration does not look like a server that is merely starting.
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  assertNamespace(options.namespace);
  const settings: ConnectionOptions = {
    servers: options.url.split(",").map((s) => s.trim()),
    name: options.name,
    user: options.user,
    pass: options.password,
    authenticator: options.credsFile
      ? credsAuthenticator(new Uint8Array(readFileSync(options.credsFile)))
      : undefined,
    ...(options.tls ? { tls: { ...options.tls } } : {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectWaitMs ?? 250,
    reconnectJitter: 100,
    pingInterval: 10_000,
    // nats.js would otherwise capture a stack trace (an Error) on every request, only to improve the
    // message of a timeout; BusError already names the subject, and this is the vault's hot path.
    noAsyncTraces: true,
  };
  let nc: NatsConnection;
  try {
    // A server that closes the connection during the handshake (a refused client certificate) shows as
    // a timeout: a short one, so the reason is logged soon.
    nc = await connectCoalescing({ ...settings, waitOnFirstConnect: false, timeout: 5_000 });
  } catch (error) {
    options.logger.warn("cannot connect to NATS yet; retrying until it answers", {
      servers: options.url,
      tls: options.tls !== undefined,
      error,
    });
    nc = await connectCoalescing({ ...settings, waitOnFirstConnect: true });
  }
  return new NatsBus(nc, options);
}

/** The bus on NATS: core request-reply with queue groups, and JetStream for durable streams. */
export class NatsBus implements Bus {
  readonly namespace: string;
  private readonly logger: Logger;
  private readonly js: JetStreamClient;
  private readonly subscriptions = new Set<{ drain(): Promise<void> }>();
  private readonly inFlight = new Set<Promise<void>>();
  private connected = true;
  private readonly closeGraceMs: number;
  private readonly replicas: number;
  /** The lease bucket, opened once per TTL asked for. */
  private readonly leaseBuckets = new Map<number, Promise<KV>>();

  constructor(
    private readonly nc: NatsConnection,
    options: NatsBusOptions,
  ) {
    this.namespace = options.namespace;
    this.logger = options.logger;
    this.js = nc.jetstream();
    this.closeGraceMs = options.closeGraceMs ?? 5_000;
    this.replicas = options.replicas ?? 1;
    void this.watchStatus();
  }

  subject(relative: string): string {
    return absoluteSubject(this.namespace, relative);
  }

  streamName(relative: string): string {
    return absoluteStreamName(this.namespace, relative);
  }

  async request(subject: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    let reply: Msg;
    try {
      reply = await this.nc.request(this.subject(subject), payload, { timeout: options.timeoutMs });
    } catch (error) {
      throw requestError(subject, options.timeoutMs, error);
    }
    return decodeReply(reply.data);
  }

  serve(subject: string, options: { queue: string }, handler: RequestHandler): Subscription {
    const absolute = this.subject(subject);
    const sub = this.nc.subscribe(absolute, {
      queue: options.queue,
      callback: (error, msg) => {
        if (error) {
          this.logger.error("subscription failed", { subject: absolute, error });
          return;
        }
        this.track(this.answer(msg, handler));
      },
    });
    return this.register(sub);
  }

  publish(subject: string, payload: Uint8Array): void {
    try {
      this.nc.publish(this.subject(subject), payload);
    } catch (error) {
      this.logger.warn("publish failed", { subject, error });
    }
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    const sub = this.nc.subscribe(this.subject(subject), {
      callback: (error, msg) => {
        if (error) {
          this.logger.error("subscription failed", { subject, error });
          return;
        }
        try {
          handler(msg.data, msg.subject);
        } catch (handlerError) {
          this.logger.error("subscriber failed", { subject: msg.subject, error: handlerError });
        }
      },
    });
    return this.register(sub);
  }

  async ensureStream(spec: StreamSpec): Promise<void> {
    let jsm: JetStreamManager;
    try {
      jsm = await this.nc.jetstreamManager();
    } catch (cause) {
      // A cluster still electing its JetStream leader answers nothing for a few seconds.
      throw new BusError(ErrorCode.UNAVAILABLE, "JetStream does not answer yet", { cause });
    }
    const config: Partial<StreamConfig> & { name: string } = {
      name: this.streamName(spec.name),
      subjects: spec.subjects.map((s) => this.subject(s)),
      retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_age: nanos(spec.maxAgeMs),
      max_bytes: spec.maxBytes,
      duplicate_window: nanos(spec.duplicateWindowMs),
      num_replicas: this.replicas,
    };
    let existing: number | undefined;
    try {
      existing = (await jsm.streams.info(config.name)).config.num_replicas;
    } catch (error) {
      if (!isStreamNotFound(error))
        throw new BusError(ErrorCode.UNAVAILABLE, `Cannot look up the stream ${config.name}`, {
          cause: error,
        });
    }
    try {
      if (existing === undefined) await jsm.streams.add(config);
      else await jsm.streams.update(config.name, config);
    } catch (cause) {
      // The usual cause: more replicas than the server has JetStream nodes (or a server not clustered).
      const what = existing === undefined ? "create" : `change from ${existing} to ${this.replicas} replicas`;
      const detail = cause instanceof Error ? cause.message : String(cause);
      // Replicas on a server that is not clustered: no wait will help.
      const permanent = cause instanceof NatsError && cause.api_error?.err_code === replicasNeedClusterCode;
      throw new BusError(
        permanent ? ErrorCode.FAILED_PRECONDITION : ErrorCode.UNAVAILABLE,
        `Cannot ${what} the stream ${config.name} with ${this.replicas} replica(s) (AUDIT_STREAM_REPLICAS): ${detail}`,
        { cause },
      );
    }
    if (existing !== undefined && existing !== this.replicas)
      this.logger.info("stream replicas changed", { stream: config.name, from: existing, to: this.replicas });
  }

  async streamState(name: string): Promise<StreamState | undefined> {
    const jsm = await this.nc.jetstreamManager();
    try {
      const { state } = await jsm.streams.info(this.streamName(name));
      return {
        messages: state.messages,
        bytes: state.bytes,
        firstSeq: state.first_seq,
        lastSeq: state.last_seq,
      };
    } catch (error) {
      if (isStreamNotFound(error)) return undefined;
      throw error;
    }
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async deleteStream(name: string): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    try {
      await jsm.streams.delete(this.streamName(name));
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
  }

  async publishDurable(
    subject: string,
    payload: Uint8Array,
    options: { msgId: string; timeoutMs: number },
  ): Promise<DurableAck> {
    try {
      const ack = await this.js.publish(this.subject(subject), payload, {
        msgID: options.msgId,
        timeout: options.timeoutMs,
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (cause) {
      throw new BusError(ErrorCode.UNAVAILABLE, "The durable stream did not store the message", { cause });
    }
  }

  async consumer(spec: ConsumerSpec): Promise<DurableConsumer> {
    return natsConsumer(
      await this.nc.jetstreamManager(),
      this.js,
      this.streamName(spec.stream),
      spec,
      this.replicas,
    );
  }

  lease(name: string, options: LeaseOptions): Lease {
    return natsLease(() => this.leaseBucket(options.ttlMs), name, options);
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((sub) => sub.drain()));
    await settleWithin([...this.inFlight], this.closeGraceMs);
    if (!this.nc.isClosed()) await this.nc.drain();
  }

  private leaseBucket(ttlMs: number): Promise<KV> {
    let bucket = this.leaseBuckets.get(ttlMs);
    if (!bucket) {
      bucket = this.nc
        .jetstreamManager()
        .then((jsm) => openLeaseBucket(this.js, jsm, this.streamName("LEASES"), ttlMs, this.replicas));
      // A failure (server down) is not remembered: the next attempt opens the bucket again.
      bucket.catch(() => this.leaseBuckets.delete(ttlMs));
      this.leaseBuckets.set(ttlMs, bucket);
    }
    return bucket;
  }

  private async answer(msg: Msg, handler: RequestHandler): Promise<void> {
    let reply: Uint8Array;
    try {
      reply = encodeOk(await handler(msg.data, msg.subject));
    } catch (error) {
      if (!(error instanceof BusError))
        this.logger.error("request handler failed", { subject: msg.subject, error });
      reply = encodeError(error);
    }
    if (!msg.respond(reply)) this.logger.warn("request had no reply subject", { subject: msg.subject });
  }

  private register(sub: { drain(): Promise<void>; unsubscribe(): void }): Subscription {
    this.subscriptions.add(sub);
    return {
      unsubscribe: async () => {
        this.subscriptions.delete(sub);
        await sub.drain().catch(() => sub.unsubscribe());
      },
    };
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Disconnect) {
        this.connected = false;
        this.logger.warn("disconnected from NATS; reconnecting", { server: String(status.data) });
      } else if (status.type === Events.Reconnect) {
        this.connected = true;
        this.logger.info("reconnected to NATS", { server: String(status.data) });
      } else if (status.type === Events.Error) {
        this.logger.error("NATS reported an error", { error: String(status.data) });
      }
    }
  }
}

/** JetStream's API error code for "stream not found". */
const streamNotFound = 10059;

function isStreamNotFound(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === streamNotFound;
}

function requestError(subject: string, timeoutMs: number, error: unknown): BusError {
  if (error instanceof NatsError) {
    if (error.code === NatsErrorCode.NoResponders) {
      return new BusError(ErrorCode.NO_RESPONDERS, `No service answers ${subject}`, { cause: error });
    }
    if (error.code === NatsErrorCode.Timeout) {
      return new BusError(ErrorCode.TIMEOUT, `No reply to ${subject} within ${timeoutMs} ms`, {
        cause: error,
      });
    }
  }
  return new BusError(ErrorCode.UNAVAILABLE, `The bus could not carry the request to ${subject}`, {
    cause: error,
  });
}
