import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  NatsError,
  nanos,
} from "nats";
import type { ConsumerSpec, ConsumerState, DurableConsumer, DurableMessage } from "./bus.ts";

/** JetStream's API error code for "consumer not found". */
const consumerNotFound = 10014;

function toDurableMessage(message: JsMsg): DurableMessage {
  return {
    seq: message.seq,
    subject: message.subject,
    payload: message.data,
    deliveryCount: message.info.deliveryCount,
    storedAtMs: Math.floor(message.info.timestampNanos / 1_000_000),
    ack: async () => {
      if (!(await message.ackAck()))
        throw new Error(`acknowledgement of message ${message.seq} was not confirmed`);
    },
    nak: (delayMs) => message.nak(delayMs),
    working: () => message.working(),
  };
}

/** A durable pull consumer on JetStream, created (or updated) with explicit acknowledgements. */
export async function natsConsumer(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  spec: ConsumerSpec,
  replicas = 1,
): Promise<DurableConsumer> {
  const config = {
    durable_name: spec.durable,
    // As many copies as the stream: a consumer on one node would lose its position with that node.
    num_replicas: replicas,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
  };
  try {
    await jsm.consumers.info(stream, spec.durable);
    await jsm.consumers.update(stream, spec.durable, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
      num_replicas: replicas,
    });
  } catch (error) {
    if (!(error instanceof NatsError && error.api_error?.err_code === consumerNotFound)) throw error;
    await jsm.consumers.add(stream, config);
  }
  const consumer = await js.consumers.get(stream, spec.durable);
  return {
    async fetch({ max, expiresMs }) {
      const messages = new Map<number, DurableMessage>();
      const batch = await consumer.fetch({ max_messages: max, expires: Math.max(1_000, expiresMs) });
      // A redelivery inside one long fetch repeats a sequence; the first delivery stands for both.
      for await (const message of batch)
        if (!messages.has(message.seq)) messages.set(message.seq, toDurableMessage(message));
      return [...messages.values()];
    },
    async state(): Promise<ConsumerState> {
      const info = await jsm.consumers.info(stream, spec.durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    },
  };
}
