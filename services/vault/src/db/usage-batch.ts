/**
 * Batched counter updates: the request path counts uses in memory and flushes them here, so a busy secret
 * costs one UPDATE per flush instead of one per read.
 */
import { type SQL, sql } from "drizzle-orm";

/** Uses of one row since the last flush. */
export interface UsageEntry {
  id: string;
  count: number;
  at: Date;
}

/** Rows per UPDATE statement; keeps the parameter count (3 per row) far below PostgreSQL's limit. */
const rowsPerStatement = 1000;

/**
 * Merges entries for the same id (counts add up, the latest time wins) and sorts them by id, so that two
 * concurrent flushes lock rows in the same order and cannot deadlock.
 */
export function mergeUsage(entries: readonly UsageEntry[]): UsageEntry[] {
  const byId = new Map<string, UsageEntry>();
  for (const entry of entries) {
    const seen = byId.get(entry.id);
    if (!seen) byId.set(entry.id, { ...entry });
    else {
      seen.count += entry.count;
      if (entry.at > seen.at) seen.at = entry.at;
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Splits merged entries into statement-sized chunks. */
export function chunkUsage(entries: readonly UsageEntry[]): UsageEntry[][] {
  const chunks: UsageEntry[][] = [];
  for (let start = 0; start < entries.length; start += rowsPerStatement) {
    chunks.push(entries.slice(start, start + rowsPerStatement));
  }
  return chunks;
}

/**
 * `(VALUES (...), ...) AS usage(id, count, at)` for `UPDATE ... FROM`: join on `usage.id`, add
 * `usage.count`, keep `greatest(column, usage.at)`.
 */
export function usageValues(entries: readonly UsageEntry[]): SQL {
  const rows = entries.map(
    (entry) => sql`(${entry.id}::text, ${entry.count}::bigint, ${entry.at.toISOString()}::timestamptz)`,
  );
  return sql`(values ${sql.join(rows, sql`, `)}) as usage(id, count, at)`;
}
