import type { ConsumerSpec, ConsumerState, DurableConsumer, DurableMessage } from "./bus.ts";
import { dropMessage, type MemoryStream, type StoredMessage } from "./memory-stream.ts";

interface InFlight {
  deadline: number;
  deliveries: number;
}

/**
 * A durable consumer in memory with JetStream's semantics: explicit acknowledgements, redelivery after
 * the ack wait (or a nak's delay), at most `maxAckPending` unacknowledged, and on a work-queue stream an
 * acknowledged message leaves the stream.
 */
export class MemoryConsumer implements DurableConsumer {
  /** The next sequence never delivered. */
  private nextSeq = 1;
  private readonly inFlight = new Map<number, InFlight>();

  constructor(
    private readonly stream: MemoryStream,
    private spec: ConsumerSpec,
    private readonly now: () => number,
  ) {}

  update(spec: ConsumerSpec): void {
    this.spec = spec;
  }

  /** Like a JetStream pull: returns once `max` messages are gathered or `expiresMs` has passed. */
  async fetch({ max, expiresMs }: { max: number; expiresMs: number }): Promise<DurableMessage[]> {
    const deadline = this.now() + Math.max(1_000, expiresMs);
    const batch = new Map<number, DurableMessage>();
    for (;;) {
      // A redelivery within one long fetch repeats a sequence; the first delivery stands for both.
      for (const message of this.take(max - batch.size))
        if (!batch.has(message.seq)) batch.set(message.seq, message);
      if (batch.size >= max || this.now() >= deadline) return [...batch.values()];
      await this.waitForMessages(deadline - this.now());
    }
  }

  async state(): Promise<ConsumerState> {
    return {
      pending: this.stream.messages.filter((message) => message.seq >= this.nextSeq).length,
      ackPending: this.inFlight.size,
    };
  }

  private take(max: number): DurableMessage[] {
    const now = this.now();
    const held = new Map(this.stream.messages.map((message) => [message.seq, message]));
    const due = [...this.inFlight]
      .filter(([seq, entry]) => entry.deadline <= now && held.has(seq))
      .sort(([a], [b]) => a - b)
      .slice(0, max);
    const batch: DurableMessage[] = [];
    for (const [seq, entry] of due) {
      entry.deliveries += 1;
      entry.deadline = now + this.spec.ackWaitMs;
      batch.push(this.deliver(held.get(seq) as StoredMessage, entry));
    }
    for (const message of this.stream.messages) {
      if (batch.length >= max || this.inFlight.size >= this.spec.maxAckPending) break;
      if (message.seq < this.nextSeq) continue;
      const entry = { deadline: now + this.spec.ackWaitMs, deliveries: 1 };
      this.inFlight.set(message.seq, entry);
      this.nextSeq = message.seq + 1;
      batch.push(this.deliver(message, entry));
    }
    return batch;
  }

  private deliver(message: StoredMessage, entry: InFlight): DurableMessage {
    return {
      seq: message.seq,
      subject: message.subject,
      payload: message.payload,
      deliveryCount: entry.deliveries,
      storedAtMs: message.storedAtMs,
      ack: async () => {
        if (!this.inFlight.delete(message.seq)) return;
        if (this.stream.spec.retention === "workqueue") dropMessage(this.stream, message.seq);
      },
      nak: (delayMs = 0) => {
        const current = this.inFlight.get(message.seq);
        if (current) current.deadline = this.now() + delayMs;
      },
      working: () => {
        const current = this.inFlight.get(message.seq);
        if (current) current.deadline = this.now() + this.spec.ackWaitMs;
      },
    };
  }

  private waitForMessages(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.stream.listeners.delete(wake);
        resolve();
      };
      // Wake for new messages, and at least every 100 ms for redeliveries coming due.
      const timer = setTimeout(wake, Math.max(1, Math.min(timeoutMs, 100)));
      this.stream.listeners.add(wake);
    });
  }
}
