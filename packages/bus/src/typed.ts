import type { Bus, DurableAck, RequestOptions, Subscription } from "./bus.ts";
import { BusError, ErrorCode } from "./errors.ts";
import type { Operation, Topic } from "./operations.ts";

/** Sends `message` as the operation's request and decodes its reply; rejects with a BusError. */
export async function request<Req, Rep>(
  bus: Bus,
  op: Operation<Req, Rep>,
  message: Req,
  options: RequestOptions,
): Promise<Rep> {
  const payload = await bus.request(op.subject, op.request.encode(message).finish(), options);
  try {
    return op.reply.decode(payload);
  } catch (cause) {
    throw new BusError(ErrorCode.INTERNAL, `Received a malformed reply to ${op.subject}`, { cause });
  }
}

/**
 * Serves the operation in a queue group. A request that cannot be decoded gets INVALID_ARGUMENT; a
 * handler's BusError is replied as is; any other failure becomes INTERNAL without its detail.
 */
export function serve<Req, Rep>(
  bus: Bus,
  op: Operation<Req, Rep>,
  options: { queue: string },
  handler: (message: Req) => Promise<Rep>,
): Subscription {
  return bus.serve(op.subject, options, async (payload) => {
    let message: Req;
    try {
      message = op.request.decode(payload);
    } catch (cause) {
      throw new BusError(ErrorCode.INVALID_ARGUMENT, `Malformed ${op.subject} request`, { cause });
    }
    return op.reply.encode(await handler(message)).finish();
  });
}

/** Publishes a message on a topic without waiting. */
export function publish<T>(bus: Bus, topic: Topic<T>, message: T): void {
  bus.publish(topic.subject, topic.message.encode(message).finish());
}

/** Receives every message on a topic; undecodable messages are reported to `onMalformed`. */
export function subscribe<T>(
  bus: Bus,
  topic: Topic<T>,
  handler: (message: T) => void,
  onMalformed: (error: unknown) => void,
): Subscription {
  return bus.subscribe(topic.subject, (payload) => {
    let message: T;
    try {
      message = topic.message.decode(payload);
    } catch (error) {
      onMalformed(error);
      return;
    }
    handler(message);
  });
}

/** Publishes to the topic's durable stream and resolves once the message is stored. */
export function publishDurable<T>(
  bus: Bus,
  topic: Topic<T>,
  message: T,
  options: { msgId: string; timeoutMs: number },
): Promise<DurableAck> {
  return bus.publishDurable(topic.subject, topic.message.encode(message).finish(), options);
}
