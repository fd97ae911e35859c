/**
 * Records every message a NATS server carries (a raw subscription to `>`, so JetStream API calls, stream
 * deliveries and replies to inboxes included) for leak checks. Use it on a private nats-server without
 * authorization: on a shared one it would see other test runs.
 */
import { connect, type NatsConnection } from "nats";

export interface BusMessage {
  subject: string;
  /** The reply subject a request carried; "" for a plain publish or a reply. */
  reply: string;
  data: Uint8Array;
}

export interface BusRecorder {
  readonly messages: BusMessage[];
  /** Makes sure everything the server has routed so far has arrived. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function recordBus(natsUrl: string): Promise<BusRecorder> {
  const nc: NatsConnection = await connect({ servers: natsUrl.split(","), name: "bus-recorder" });
  const messages: BusMessage[] = [];
  const subscription = nc.subscribe(">");
  const done = (async () => {
    for await (const message of subscription) {
      messages.push({ subject: message.subject, reply: message.reply ?? "", data: message.data });
    }
  })();
  await nc.flush();
  return {
    messages,
    flush: () => nc.flush(),
    async close() {
      await nc.drain();
      await done;
    },
  };
}

/**
 * The recorded replies to requests on `requested` (subjects relative to `namespace`), recognised by their
 * subject: the inbox the request named.
 */
export function repliesTo(
  messages: readonly BusMessage[],
  namespace: string,
  requested: readonly string[],
): BusMessage[] {
  const requestSubjects = new Set(requested.map((subject) => `${namespace}.${subject}`));
  const inboxes = new Set(
    messages.filter((m) => requestSubjects.has(m.subject) && m.reply !== "").map((m) => m.reply),
  );
  return messages.filter((m) => inboxes.has(m.subject));
}
