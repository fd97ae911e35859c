import { asc, eq, lt } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { auditOutbox } from "../db/schema.ts";

export interface OutboxEntry {
  id: string;
  event: Uint8Array;
}

/** The audit outbox: admin events stored with the change they describe until the stream has them. */
export function createAuditOutboxDal({ db }: { db: Database }) {
  return {
    async insert(entry: OutboxEntry): Promise<void> {
      await db.insert(auditOutbox).values(entry).onConflictDoNothing();
    },

    async remove(id: string): Promise<void> {
      await db.delete(auditOutbox).where(eq(auditOutbox.id, id));
    },

    /** Entries written before `before`, oldest first. */
    async olderThan(before: Date, limit: number): Promise<OutboxEntry[]> {
      return db
        .select({ id: auditOutbox.id, event: auditOutbox.event })
        .from(auditOutbox)
        .where(lt(auditOutbox.createdAt, before))
        .orderBy(asc(auditOutbox.createdAt))
        .limit(limit);
    },
  };
}

export type AuditOutboxDal = ReturnType<typeof createAuditOutboxDal>;
