import type { Logger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import type { AuditOutboxDal } from "./audit-outbox-dal.ts";
import type { AuditRecorder } from "./audit-recorder.ts";

export interface OutboxRelayDeps {
  outbox: AuditOutboxDal;
  recorder: Pick<AuditRecorder, "publish">;
  logger: Logger;
  intervalMs: number;
  /** Entries younger than this are left to the request that wrote them. */
  graceMs: number;
  now?: () => number;
}

/**
 * Publishes audit events left in the outbox (the vault stopped, or the stream refused, between commit and
 * publish), oldest first by the event's own time, and deletes each once the stream has it. Several vaults
 * may relay the same entry: the event id is the stream's message id, so the second publish is recognised
 * as a duplicate.
 *
 * Relayed events reach the stream **after** newer events of the same name (published directly by the
 * requests that came later), with their original timestamps: the stream is not in time order, and an event
 * relayed more than an hour late is "too far behind" its Loki stream. The audit shipper expects this: it
 * asks Loki whether it holds such an event and otherwise files it in a stream of its hour (`late_hour`),
 * so it is neither lost nor parked. Restamping it instead would alter the audit record.
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const now = deps.now ?? Date.now;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<number> | undefined;

  async function relayOnce(): Promise<number> {
    const entries = await deps.outbox.olderThan(new Date(now() - deps.graceMs), 500);
    // The row's time is the database's clock; the event's is the vault's that wrote it, and is what Loki
    // orders by.
    const events = entries
      .map((entry) => ({ id: entry.id, event: AuditEvent.decode(entry.event) }))
      .sort((a, b) => a.event.timestampMs - b.event.timestampMs);
    let relayed = 0;
    let oldestMs = Number.POSITIVE_INFINITY;
    for (const { id, event } of events) {
      await deps.recorder.publish(event);
      await deps.outbox.remove(id);
      relayed += 1;
      oldestMs = Math.min(oldestMs, event.timestampMs);
    }
    if (relayed > 0) {
      deps.logger.info("relayed audit events from the outbox", {
        count: relayed,
        oldestAgeMs: now() - oldestMs,
      });
    }
    return relayed;
  }

  function tick(): void {
    if (running) return;
    running = relayOnce()
      .catch((error: unknown) => {
        deps.logger.warn("audit outbox relay will retry", { error });
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
  }

  return {
    /** One pass over the outbox; resolves with the number of events relayed. */
    relayOnce,
    start(): void {
      timer ??= setInterval(tick, deps.intervalMs);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
