import type { Lease, LeaseOptions } from "./lease.ts";

/**
 * The message bus every process talks through. Two implementations share this contract and one test
 * suite: NATS (distributed mode) and in-process (embedded mode).
 *
 * Subjects given to a Bus are relative (`v1.vault.get-secret`); the bus prefixes its namespace, so several
 * deployments or test runs share one NATS server without seeing each other's traffic. Callers normally
 * use the typed helpers in `typed.ts` with the operations registry rather than these raw methods.
 */

/** Stops a subscription; resolves once no further handler call will start. */
export interface Subscription {
  unsubscribe(): Promise<void>;
}

/** Answers one request: the reply's bytes, or a thrown error (a BusError keeps its code; anything else
 *  becomes INTERNAL with a generic message). */
export type RequestHandler = (payload: Uint8Array, subject: string) => Promise<Uint8Array>;

export type MessageHandler = (payload: Uint8Array, subject: string) => void;

/** A durable stream of messages (the audit trail). Limits apply with discard-new: a full stream refuses
 *  new messages rather than dropping stored ones. */
export interface StreamSpec {
  /** Relative stream name, such as `AUDIT`; the bus prefixes its namespace (`SECRETS_AUDIT`). */
  name: string;
  /** Relative subjects captured by the stream. */
  subjects: string[];
  /**
   * `limits`: messages stay until a limit removes them. `workqueue`: a message is removed once its
   * consumer acknowledges it, so the stream holds exactly what is not yet delivered.
   */
  retention: "limits" | "workqueue";
  /** Oldest message kept, in milliseconds; 0 means no limit. */
  maxAgeMs: number;
  /** Total size kept, in bytes; -1 means no limit. */
  maxBytes: number;
  /** Window in which a repeated message id is recognised as a duplicate, in milliseconds. */
  duplicateWindowMs: number;
}

export interface DurableAck {
  /** The message's sequence number in the stream. */
  seq: number;
  /** True when the message id was already stored within the duplicate window (nothing new stored). */
  duplicate: boolean;
}

/** What a stream holds now. */
export interface StreamState {
  messages: number;
  bytes: number;
  /** Sequence of the oldest message held (0 when empty). */
  firstSeq: number;
  lastSeq: number;
}

/** A durable pull consumer on a stream: it remembers what was acknowledged across restarts. */
export interface ConsumerSpec {
  /** Relative stream name. */
  stream: string;
  /** The consumer's durable name; processes using the same name share its position. */
  durable: string;
  /** A fetched message not acknowledged within this time is delivered again. */
  ackWaitMs: number;
  /** Most messages delivered and not yet acknowledged at once. */
  maxAckPending: number;
}

export interface DurableMessage {
  seq: number;
  subject: string;
  payload: Uint8Array;
  /** 1 on first delivery; more after redeliveries. */
  deliveryCount: number;
  /** When the stream stored the message, ms since the epoch. */
  storedAtMs: number;
  /** Acknowledges the message and waits for the server to confirm (a work-queue stream then drops it). */
  ack(): Promise<void>;
  /** Asks for redelivery after `delayMs`. */
  nak(delayMs?: number): void;
  /** Extends the acknowledgement deadline while the message is still being worked on. */
  working(): void;
}

export interface ConsumerState {
  /** Stored messages not yet delivered to this consumer. */
  pending: number;
  /** Delivered and not yet acknowledged. */
  ackPending: number;
}

export interface DurableConsumer {
  /** Up to `max` messages in stream order (redeliveries first); waits up to `expiresMs` (≥ 1000) for any. */
  fetch(options: { max: number; expiresMs: number }): Promise<DurableMessage[]>;
  state(): Promise<ConsumerState>;
}

export interface RequestOptions {
  /** The longest the caller waits for a reply before a TIMEOUT error. */
  timeoutMs: number;
}

export interface Bus {
  /** The namespace prefixed to every subject and stream name. */
  readonly namespace: string;

  /** The absolute subject for a relative one (for permissions and diagnostics). */
  subject(relative: string): string;

  /** The absolute stream name for a relative one. */
  streamName(relative: string): string;

  /**
   * Sends a request and resolves with the reply's payload. Rejects with a BusError: the handler's error,
   * TIMEOUT when no reply arrives within `timeoutMs`, NO_RESPONDERS when nobody serves the subject,
   * UNAVAILABLE when the bus itself cannot carry the request.
   */
  request(subject: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array>;

  /** Serves requests on `subject` within a queue group: each request reaches one member of the group.
   *  Requests are handled concurrently; every request gets exactly one reply, error included. */
  serve(subject: string, options: { queue: string }, handler: RequestHandler): Subscription;

  /** Fire-and-forget publish (notifications such as cache invalidation). */
  publish(subject: string, payload: Uint8Array): void;

  /** Receives every message published on `subject` (`*` and `>` wildcards allowed). */
  subscribe(subject: string, handler: MessageHandler): Subscription;

  /** Creates the stream, or updates its limits when it exists. */
  ensureStream(spec: StreamSpec): Promise<void>;

  /** What the stream holds now, or undefined when it does not exist. */
  streamState(name: string): Promise<StreamState | undefined>;

  /** Resolves once everything sent so far, subscriptions included, has reached the server. */
  flush(): Promise<void>;

  /** Removes a stream and its messages (tests and tooling). */
  deleteStream(name: string): Promise<void>;

  /**
   * Publishes to a stream and resolves only once the message is stored (JetStream acknowledgement, or the
   * in-process store's write). Rejects with UNAVAILABLE when it is not stored: no stream, stream full,
   * storage failure or timeout.
   */
  publishDurable(
    subject: string,
    payload: Uint8Array,
    options: { msgId: string; timeoutMs: number },
  ): Promise<DurableAck>;

  /** Creates the durable consumer if needed and binds to it. */
  consumer(spec: ConsumerSpec): Promise<DurableConsumer>;

  /**
   * A named lease with one holder at a time (see `lease.ts`). NATS keeps leases in the KV bucket
   * `<NAMESPACE>_LEASES` whose TTL is `ttlMs` (so leases of one namespace share a TTL); in process, a map.
   */
  lease(name: string, options: LeaseOptions): Lease;

  /** True while the bus can carry messages. */
  isConnected(): boolean;

  /** Stops serving, lets in-flight handlers reply, and closes the connection. */
  close(): Promise<void>;
}
