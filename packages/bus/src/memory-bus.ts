import type { Logger } from "@secrets/logger";
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
import { MemoryLeases } from "./memory-lease.ts";
import { MemoryStreamStore, type StreamStore } from "./memory-stream-store.ts";
import { absoluteStreamName, absoluteSubject, assertNamespace } from "./namespace.ts";
import { settleWithin } from "./settle.ts";
import { subjectMatches } from "./subject-match.ts";

interface Server {
  subject: string;
  queue: string;
  handler: RequestHandler;
}

export interface MemoryBusOptions {
  namespace: string;
  logger: Logger;
  /** Durable streams; defaults to memory. The embedded mode passes a file journal. */
  streams?: StreamStore;
  /** How long `close()` lets in-flight handlers finish before closing anyway (default 5 s). */
  closeGraceMs?: number;
  /** The clock leases are timed by (default `Date.now`). */
  now?: () => number;
}

/**
 * The in-process bus for the embedded mode: the same contract as NATS, messages passed through memory.
 * Payloads are still encoded as bytes and replies wrapped in the same envelope, so code behaves alike on
 * both buses.
 */
export class MemoryBus implements Bus {
  readonly namespace: string;
  private readonly servers = new Set<Server>();
  private readonly subscribers = new Set<{ subject: string; handler: MessageHandler }>();
  private readonly roundRobin = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly streams: StreamStore;
  private readonly logger: Logger;
  private readonly closeGraceMs: number;
  private readonly leases: MemoryLeases;
  private closed = false;

  constructor(options: MemoryBusOptions) {
    this.closeGraceMs = options.closeGraceMs ?? 5_000;
    assertNamespace(options.namespace);
    this.namespace = options.namespace;
    this.logger = options.logger;
    this.streams = options.streams ?? new MemoryStreamStore();
    this.leases = new MemoryLeases(options.now ?? Date.now);
  }

  subject(relative: string): string {
    return absoluteSubject(this.namespace, relative);
  }

  streamName(relative: string): string {
    return absoluteStreamName(this.namespace, relative);
  }

  async request(subject: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    if (this.closed) throw new BusError(ErrorCode.UNAVAILABLE, "The bus is closed");
    const absolute = this.subject(subject);
    const server = this.pickServer(absolute);
    if (!server) throw new BusError(ErrorCode.NO_RESPONDERS, `No service answers ${subject}`);
    const reply = this.track(this.invoke(server, absolute, payload.slice()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new BusError(ErrorCode.TIMEOUT, `No reply to ${subject} within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    try {
      return decodeReply(await Promise.race([reply, timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  serve(subject: string, options: { queue: string }, handler: RequestHandler): Subscription {
    const server = { subject: this.subject(subject), queue: options.queue, handler };
    this.servers.add(server);
    return {
      unsubscribe: async () => {
        this.servers.delete(server);
      },
    };
  }

  publish(subject: string, payload: Uint8Array): void {
    if (this.closed) return;
    const absolute = this.subject(subject);
    for (const subscriber of this.subscribers) {
      if (!subjectMatches(subscriber.subject, absolute)) continue;
      const copy = payload.slice();
      queueMicrotask(() => {
        try {
          subscriber.handler(copy, absolute);
        } catch (error) {
          this.logger.error("subscriber failed", { subject: absolute, error });
        }
      });
    }
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    const subscriber = { subject: this.subject(subject), handler };
    this.subscribers.add(subscriber);
    return {
      unsubscribe: async () => {
        this.subscribers.delete(subscriber);
      },
    };
  }

  async ensureStream(spec: StreamSpec): Promise<void> {
    await this.streams.ensure({
      ...spec,
      name: this.streamName(spec.name),
      subjects: spec.subjects.map((s) => this.subject(s)),
    });
  }

  async streamState(name: string): Promise<StreamState | undefined> {
    return this.streams.state(this.streamName(name));
  }

  async flush(): Promise<void> {}

  async deleteStream(name: string): Promise<void> {
    await this.streams.remove(this.streamName(name));
  }

  async publishDurable(
    subject: string,
    payload: Uint8Array,
    options: { msgId: string; timeoutMs: number },
  ): Promise<DurableAck> {
    if (this.closed) throw new BusError(ErrorCode.UNAVAILABLE, "The bus is closed");
    try {
      return await this.streams.append(this.subject(subject), payload.slice(), options.msgId);
    } catch (cause) {
      throw new BusError(ErrorCode.UNAVAILABLE, "The durable stream did not store the message", { cause });
    }
  }

  async consumer(spec: ConsumerSpec): Promise<DurableConsumer> {
    return this.streams.consumer(this.streamName(spec.stream), spec);
  }

  lease(name: string, options: LeaseOptions): Lease {
    return this.leases.lease(name, options);
  }

  isConnected(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.servers.clear();
    this.subscribers.clear();
    await settleWithin([...this.inFlight], this.closeGraceMs);
    this.closed = true;
  }

  private pickServer(subject: string): Server | undefined {
    const candidates = [...this.servers].filter((s) => subjectMatches(s.subject, subject));
    if (candidates.length === 0) return undefined;
    const next = this.roundRobin.get(subject) ?? 0;
    this.roundRobin.set(subject, next + 1);
    return candidates[next % candidates.length];
  }

  private async invoke(server: Server, subject: string, payload: Uint8Array): Promise<Uint8Array> {
    try {
      return encodeOk(await server.handler(payload, subject));
    } catch (error) {
      if (!(error instanceof BusError)) this.logger.error("request handler failed", { subject, error });
      return encodeError(error);
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => {});
    return promise;
  }
}
