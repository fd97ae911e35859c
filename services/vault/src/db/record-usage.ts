/**
 * Flushing batched use counts into a table: one `UPDATE ... FROM (VALUES ...)` per chunk, the counter
 * added to and the last-use time never moved backwards.
 */
import { sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "./connection.ts";
import { chunkUsage, mergeUsage, type UsageEntry, usageValues } from "./usage-batch.ts";

/** The columns a flush touches: the row's id, its use counter and its last-use time. */
export interface UsageColumns {
  id: PgColumn;
  count: PgColumn;
  lastAt: PgColumn;
}

/**
 * Adds `entries` (merged per id and sorted, so concurrent flushes lock rows in one order) to `table`.
 *
 * @example
 * await recordUsage(db, serviceTokens, { id: serviceTokens.id, count: serviceTokens.accessCount,
 *   lastAt: serviceTokens.lastUsedAt }, entries);
 */
export async function recordUsage(
  db: Database,
  table: PgTable,
  columns: UsageColumns,
  entries: readonly UsageEntry[],
): Promise<void> {
  for (const chunk of chunkUsage(mergeUsage(entries))) {
    await db.execute(sql`
      update ${table}
      set ${sql.identifier(columns.count.name)} = ${columns.count} + usage.count,
          ${sql.identifier(columns.lastAt.name)} = greatest(${columns.lastAt}, usage.at)
      from ${usageValues(chunk)}
      where ${columns.id} = usage.id`);
  }
}
