import type { ConsumerSpec, DurableAck, DurableConsumer, StreamSpec, StreamState } from "./bus.ts";
import type { StoredMessage } from "./memory-stream.ts";

export type { StoredMessage };

import { MemoryConsumer } from "./memory-consumer.ts";
import { dropMessage, type MemoryStream } from "./memory-stream.ts";
import { subjectMatches } from "./subject-match.ts";

/** Where the in-process bus keeps durable streams. The embedded mode plugs in a file journal. */
export interface StreamStore {
  ensure(spec: StreamSpec): Promise<void>;
  remove(name: string): Promise<void>;
  /** Stores one message in the stream that captures `subject`; rejects when none does or it is full. */
  append(subject: string, payload: Uint8Array, msgId: string): Promise<DurableAck>;
  state(name: string): Promise<StreamState | undefined>;
  consumer(name: string, spec: ConsumerSpec): Promise<DurableConsumer>;
}

/** Durable-stream semantics in memory: limits with discard-new, de-duplication by message id, consumers. */
export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, MemoryStream>();
  /** Each stream's consumers by durable name; a stream removed and made again starts without any. */
  private readonly consumers = new WeakMap<MemoryStream, Map<string, MemoryConsumer>>();

  constructor(private readonly now: () => number = Date.now) {}

  async ensure(spec: StreamSpec): Promise<void> {
    const existing = this.streams.get(spec.name);
    if (existing) existing.spec = spec;
    else {
      this.streams.set(spec.name, {
        spec,
        messages: [],
        bytes: 0,
        lastSeq: 0,
        recentIds: new Map(),
        listeners: new Set(),
      });
    }
  }

  async remove(name: string): Promise<void> {
    this.streams.delete(name);
  }

  async append(subject: string, payload: Uint8Array, msgId: string): Promise<DurableAck> {
    const stream = [...this.streams.values()].find((s) =>
      s.spec.subjects.some((p) => subjectMatches(p, subject)),
    );
    if (!stream) throw new Error(`no stream captures ${subject}`);
    const now = this.now();
    this.expire(stream, now);
    const previous = stream.recentIds.get(msgId);
    if (previous) return { seq: previous.seq, duplicate: true };
    if (stream.spec.maxBytes >= 0 && stream.bytes + payload.byteLength > stream.spec.maxBytes) {
      throw new Error("stream is full (maximum bytes exceeded)");
    }
    const seq = ++stream.lastSeq;
    stream.messages.push({ seq, subject, payload: payload.slice(), msgId, storedAtMs: now });
    stream.bytes += payload.byteLength;
    stream.recentIds.set(msgId, { seq, atMs: now });
    for (const listener of [...stream.listeners]) listener();
    return { seq, duplicate: false };
  }

  async state(name: string): Promise<StreamState | undefined> {
    const stream = this.streams.get(name);
    if (!stream) return undefined;
    return {
      messages: stream.messages.length,
      bytes: stream.bytes,
      firstSeq: stream.messages[0]?.seq ?? 0,
      lastSeq: stream.lastSeq,
    };
  }

  async consumer(name: string, spec: ConsumerSpec): Promise<DurableConsumer> {
    const stream = this.streams.get(name);
    if (!stream) throw new Error(`no stream named ${name}`);
    let consumers = this.consumers.get(stream);
    if (!consumers) {
      consumers = new Map();
      this.consumers.set(stream, consumers);
    }
    let consumer = consumers.get(spec.durable);
    if (!consumer) {
      consumer = new MemoryConsumer(stream, spec, this.now);
      consumers.set(spec.durable, consumer);
    } else consumer.update(spec);
    return consumer;
  }

  /** Messages currently held by a stream, oldest first. */
  messages(name: string): readonly StoredMessage[] {
    return this.streams.get(name)?.messages ?? [];
  }

  private expire(stream: MemoryStream, now: number): void {
    for (const [id, entry] of stream.recentIds) {
      if (now - entry.atMs <= stream.spec.duplicateWindowMs) break;
      stream.recentIds.delete(id);
    }
    if (stream.spec.maxAgeMs > 0) {
      while (stream.messages[0] && now - stream.messages[0].storedAtMs > stream.spec.maxAgeMs) {
        dropMessage(stream, stream.messages[0].seq);
      }
    }
  }
}
