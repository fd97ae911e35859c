/**
 * Delivers one fetched batch: cut it into the sink's parts (Loki: one stream and at most
 * LOKI_PUSH_MAX_BYTES per push), push each, retrying the same part with backoff until it is accepted
 * (never skipping ahead, so the backlog reaches the sink oldest first), and acknowledge each part's
 * messages once it is accepted. A part that keeps failing in a way a request too large also would is
 * split in halves; a part the sink refuses for good is bisected down to the refused events, and each is
 * parked unless the sink, asked again (`reconsider`), holds it already or took it another way. While a
 * push is outstanding the messages are kept alive with `working()` so they are not redelivered meanwhile.
 */
import type { DurableMessage } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { type BackoffPolicy, backoffDelay } from "@secrets/validation";
import type { AuditSink, SinkOutcome } from "../sinks/sink.ts";
import { failureReason } from "../sinks/sink.ts";
import type { AuditTrail } from "../trail/audit-trail.ts";
import type { ShipperClock } from "./clock.ts";
import type { ParkItem, Parking } from "./parking.ts";
import type { ShipperFigures } from "./shipper-figures.ts";

export interface DeliveryDeps {
  sink: AuditSink;
  parking: Parking;
  logger: Logger;
  clock: ShipperClock;
  retry: BackoffPolicy;
  /** The consumer's ack wait: `working()` is signalled three times within it. */
  ackWaitMs: number;
  figures: ShipperFigures;
  /** False once the batch must be given up (stopping, or the lease lost). */
  mayContinue(): boolean;
  /** Aborted on stop, to cut retry delays short. */
  signal: AbortSignal;
  /** Links each event into the hash chain before the sink sees it; without it lines carry no chain. */
  trail?: Pick<AuditTrail, "link">;
}

/** `done`: every message acknowledged (accepted or parked). `abandoned`: the rest were handed back. */
export type DeliveryResult = "done" | "abandoned";

interface Entry {
  message: DurableMessage;
  event: AuditEvent;
}

type PushResult =
  | Exclude<SinkOutcome, { status: "retry" }>
  | { status: "abandoned" }
  | { status: "split"; reason: string };

/** Failures in a row, each a possible "too large", after which a part of several events is split. */
export const splitAfterFailures = 4;

export function createDelivery(deps: DeliveryDeps) {
  const { logger, figures, clock, sink } = deps;

  async function safeWrite(events: readonly AuditEvent[]): Promise<SinkOutcome> {
    try {
      return await sink.write(events);
    } catch (error) {
      return { status: "retry", reason: failureReason(error) };
    }
  }

  function noteSuccess(count: number): void {
    const now = clock.now();
    if (figures.consecutiveFailures > 0) {
      logger.info("audit sink recovered", {
        sink: sink.name,
        failedAttempts: figures.consecutiveFailures,
        downMs: now - figures.failingSinceMs,
      });
    }
    figures.shipped += count;
    figures.lastSuccessMs = now;
    figures.consecutiveFailures = 0;
    figures.failingSinceMs = 0;
  }

  /**
   * Pushes the same events until accepted or refused; `abandoned` when told to give up meanwhile;
   * `split` when a part of several events keeps failing as one too large for the sink would.
   */
  async function pushWithRetry(events: readonly AuditEvent[]): Promise<PushResult> {
    let sizeSuspects = 0;
    for (let attempt = 0; ; attempt++) {
      const outcome = await safeWrite(events);
      if (outcome.status === "accepted") {
        noteSuccess(events.length);
        return outcome;
      }
      if (outcome.status === "refused") return outcome;
      sizeSuspects = outcome.mayBeTooLarge ? sizeSuspects + 1 : 0;
      if (figures.consecutiveFailures === 0) figures.failingSinceMs = clock.now();
      figures.consecutiveFailures += 1;
      const delayMs = backoffDelay(attempt, deps.retry, clock.random, outcome.retryAfterMs);
      logger.warn("audit sink push failed; retrying the same batch", {
        sink: sink.name,
        events: events.length,
        firstEventId: events[0]?.id ?? "",
        attempt: attempt + 1,
        consecutiveFailures: figures.consecutiveFailures,
        retryInMs: delayMs,
        reason: outcome.reason,
      });
      await clock.sleep(delayMs, deps.signal);
      if (!deps.mayContinue()) return { status: "abandoned" };
      if (sizeSuspects >= splitAfterFailures && events.length > 1) {
        logger.warn("audit sink keeps refusing a push; splitting it", {
          sink: sink.name,
          events: events.length,
          firstEventId: events[0]?.id ?? "",
          reason: outcome.reason,
        });
        return { status: "split", reason: outcome.reason };
      }
    }
  }

  /**
   * Asks the sink again about one refused event until it answers for good: `accepted` (it holds it, or
   * took it another way) or `refused` (park it); undefined when told to give up meanwhile.
   */
  async function reconsiderWithRetry(event: AuditEvent, refusal: string): Promise<SinkOutcome | undefined> {
    const reconsider = sink.reconsider;
    if (!reconsider) return { status: "refused", reason: refusal };
    for (let attempt = 0; ; attempt++) {
      let outcome: SinkOutcome;
      try {
        outcome = await reconsider(event, refusal);
      } catch (error) {
        outcome = { status: "retry", reason: failureReason(error) };
      }
      if (outcome.status !== "retry") return outcome;
      const delayMs = backoffDelay(attempt, deps.retry, clock.random, outcome.retryAfterMs);
      logger.warn("could not settle a refused audit event; retrying", {
        eventId: event.id,
        retryInMs: delayMs,
        reason: outcome.reason,
      });
      await clock.sleep(delayMs, deps.signal);
      if (!deps.mayContinue()) return undefined;
    }
  }

  /** Stores items in the park file, retrying with backoff while the disk refuses. */
  async function parkWithRetry(items: readonly ParkItem[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await deps.parking.park(items);
        return true;
      } catch (error) {
        const delayMs = backoffDelay(attempt, deps.retry, clock.random);
        logger.error("could not park refused audit events; retrying", {
          events: items.length,
          retryInMs: delayMs,
          error,
        });
        await clock.sleep(delayMs, deps.signal);
        if (!deps.mayContinue()) return false;
      }
    }
  }

  return async function deliver(messages: readonly DurableMessage[]): Promise<DeliveryResult> {
    const acknowledged = new Set<DurableMessage>();

    async function acknowledge(batch: readonly DurableMessage[]): Promise<void> {
      let unconfirmed = 0;
      await Promise.all(
        batch.map((message) =>
          message.ack().then(
            () => acknowledged.add(message),
            () => {
              unconfirmed += 1;
              acknowledged.add(message); // delivered all the same; a redelivery is a duplicate Loki drops
            },
          ),
        ),
      );
      if (unconfirmed > 0) {
        logger.warn("acknowledgements not confirmed; those events will be delivered again", {
          events: unconfirmed,
        });
      }
    }

    /** Settles one event refused for good: delivered after all, or parked. */
    async function settleRefused(only: Entry, refusal: string): Promise<DeliveryResult> {
      const settled = await reconsiderWithRetry(only.event, refusal);
      if (!settled) return "abandoned";
      if (settled.status === "accepted") {
        noteSuccess(1);
        await acknowledge([only.message]);
        return "done";
      }
      const reason = settled.status === "refused" ? settled.reason : refusal;
      const parked = await parkWithRetry([
        { seq: only.message.seq, event: only.event, payload: only.message.payload, reason },
      ]);
      if (!parked) return "abandoned";
      await acknowledge([only.message]);
      return "done";
    }

    /** Ships one part, halving it while refused until single refused events remain to settle. */
    async function shipPart(entries: readonly Entry[]): Promise<DeliveryResult> {
      if (entries.length === 0) return "done";
      const outcome = await pushWithRetry(entries.map((entry) => entry.event));
      if (outcome.status === "abandoned") return "abandoned";
      if (outcome.status === "accepted") {
        await acknowledge(entries.map((entry) => entry.message));
        return "done";
      }
      const [only] = entries;
      if (entries.length === 1 && only && outcome.status === "refused") {
        return settleRefused(only, outcome.reason);
      }
      const middle = Math.ceil(entries.length / 2);
      if ((await shipPart(entries.slice(0, middle))) === "abandoned") return "abandoned";
      return shipPart(entries.slice(middle));
    }

    /** Ships the batch part by part, in the order the sink cuts it. */
    async function ship(entries: readonly Entry[]): Promise<DeliveryResult> {
      if (entries.length === 0) return "done";
      const events = entries.map((entry) => entry.event);
      const byEvent = new Map(entries.map((entry) => [entry.event, entry]));
      const parts = sink.parts ? sink.parts(events) : [events];
      for (const part of parts) {
        const partEntries = part.flatMap((event) => byEvent.get(event) ?? []);
        if ((await shipPart(partEntries)) === "abandoned") return "abandoned";
      }
      return "done";
    }

    const entries: Entry[] = [];
    const undecodable: ParkItem[] = [];
    const seen = new Set<number>();
    for (const message of messages) {
      // A redelivery inside one long fetch repeats a sequence: ship it once, acknowledge both handles.
      if (seen.has(message.seq)) continue;
      seen.add(message.seq);
      try {
        entries.push({ message, event: AuditEvent.decode(message.payload) });
      } catch (error) {
        undecodable.push({
          seq: message.seq,
          event: undefined,
          payload: message.payload,
          reason: `undecodable payload: ${failureReason(error)}`,
        });
      }
    }

    const heartbeat = setInterval(
      () => {
        for (const message of messages) if (!acknowledged.has(message)) message.working();
      },
      Math.max(100, Math.floor(deps.ackWaitMs / 3)),
    );
    try {
      // Inside the heartbeat: linking may ask the sink how a predecessor linked the position before.
      await deps.trail?.link(entries.map((entry) => ({ seq: entry.message.seq, event: entry.event })));
      let result: DeliveryResult = "done";
      if (undecodable.length > 0) {
        if (await parkWithRetry(undecodable)) {
          const parkedSeqs = new Set(undecodable.map((item) => item.seq));
          await acknowledge(messages.filter((message) => parkedSeqs.has(message.seq)));
        } else result = "abandoned";
      }
      if (result === "done") result = await ship(entries);
      if (result === "done") {
        const duplicates = messages.filter((message) => !acknowledged.has(message));
        if (duplicates.length > 0) await acknowledge(duplicates);
      }
      if (result === "abandoned") {
        // Handed back at once, so whoever ships next starts with them, in stream order.
        for (const message of messages) if (!acknowledged.has(message)) message.nak(0);
      }
      return result;
    } finally {
      clearInterval(heartbeat);
    }
  };
}
