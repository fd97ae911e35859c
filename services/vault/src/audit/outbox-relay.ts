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
 * publish), oldest first, and deletes each once the stream has it. Several vaults may relay the same
 * entry: the event id is the stream's message id, so the second publish is recognised as a duplicate.
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const now = deps.now ?? Date.now;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<number> | undefined;

  async function relayOnce(): Promise<number> {
    const entries = await deps.outbox.olderThan(new Date(now() - deps.graceMs), 500);
    let relayed = 0;
    for (const entry of entries) {
      await deps.recorder.publish(AuditEvent.decode(entry.event));
      await deps.outbox.remove(entry.id);
      relayed += 1;
    }
    if (relayed > 0) deps.logger.info("relayed audit events from the outbox", { count: relayed });
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
