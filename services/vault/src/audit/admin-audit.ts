import { BusError } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import type { Database } from "../db/connection.ts";
import { createDals, type Dals, inTransaction } from "../db/dals.ts";
import { type AuditFacts, type AuditRecorder, refusalReason } from "./audit-recorder.ts";

export interface AdminAuditDeps {
  db: Database;
  recorder: AuditRecorder;
  logger: Logger;
}

/** Facts every admin event carries: who acted, on which request. */
export type AdminFacts = Omit<AuditFacts, "success" | "reason">;

/**
 * Audit for admin operations through the outbox: a change and its event commit together, so an admin
 * action is never unaudited; the event is then published at once, or later by the relay.
 */
export function createAdminAudit(deps: AdminAuditDeps) {
  const dals = createDals(deps.db);

  async function publishAndClear(event: AuditEvent): Promise<void> {
    try {
      await deps.recorder.publish(event);
      await dals.auditOutbox.remove(event.id);
    } catch (error) {
      deps.logger.warn("admin audit event left in the outbox for the relay", { eventId: event.id, error });
    }
  }

  async function stage(target: Dals, facts: AuditFacts): Promise<AuditEvent> {
    const event = deps.recorder.build(facts);
    await target.auditOutbox.insert({ id: event.id, event: AuditEvent.encode(event).finish() });
    return event;
  }

  /** Records a refusal (outside any rolled-back transaction) and rethrows it. */
  async function refuse(facts: AdminFacts, error: unknown): Promise<never> {
    const busError = error instanceof BusError ? error : undefined;
    const reason = busError ? refusalReason(busError) : "INTERNAL";
    try {
      const event = await stage(dals, {
        ...facts,
        success: false,
        reason,
        level: busError ? "warn" : "error",
      });
      await publishAndClear(event);
    } catch (auditError) {
      deps.logger.error("could not record a refused admin operation", {
        event: facts.event,
        error: auditError,
      });
    }
    throw error;
  }

  return {
    /**
     * Runs `work` in a transaction; its returned facts complete the event, which commits with the change.
     * A thrown error rolls the change back and is recorded as a refusal.
     */
    async change<T>(
      facts: AdminFacts,
      work: (dals: Dals) => Promise<{ result: T; facts?: Partial<AdminFacts> }>,
    ): Promise<T> {
      let outcome: { result: T; event: AuditEvent };
      try {
        outcome = await inTransaction(deps.db, async (tx) => {
          const { result, facts: more } = await work(tx);
          const event = await stage(tx, { ...facts, ...more, success: true });
          return { result, event };
        });
      } catch (error) {
        return refuse(facts, error);
      }
      await publishAndClear(outcome.event);
      return outcome.result;
    },

    /** Runs a read and records it. */
    async read<T>(facts: AdminFacts, work: () => Promise<T>): Promise<T> {
      let result: T;
      try {
        result = await work();
      } catch (error) {
        return refuse(facts, error);
      }
      await publishAndClear(await stage(dals, { ...facts, success: true }));
      return result;
    },
  };
}

export type AdminAudit = ReturnType<typeof createAdminAudit>;
