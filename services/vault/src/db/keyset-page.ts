/**
 * Keyset paging of a newest-first list: rows ordered by a timestamp and then an id, both descending, the
 * cursor holding the last row's pair so the next page starts strictly after it.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import {
  checkLimit,
  decodeTimeCursor,
  encodeTimeCursor,
  type Page,
  type PageRequest,
  toPage,
} from "./cursor.ts";

/** The list's sort columns: when a row was made, and its id to break ties. */
export interface NewestFirstColumns {
  at: PgColumn;
  id: PgColumn;
}

/** What a newest-first query needs: its condition, order and row count, and how to cut the result. */
export interface NewestFirstKeyset {
  /** Rows after the cursor (older, or as old with a smaller id); undefined on the first page. */
  after: SQL | undefined;
  orderBy: [SQL, SQL];
  /** Rows to fetch: one more than a page, to tell whether another follows. */
  fetchLimit: number;
  /** The page of the fetched rows, its cursor built from the last row kept. */
  page<T extends { id: string }>(rows: T[], atOf: (row: T) => Date): Page<T>;
}

/**
 * Checks the page request (a limit below 1 throws RangeError, a foreign cursor InvalidCursorError) and
 * gives the parts of its query.
 *
 * @example
 * const keyset = newestFirstKeyset(request, { at: serviceTokens.requestedAt, id: serviceTokens.id });
 * const rows = await db.select().from(serviceTokens).where(keyset.after).orderBy(...keyset.orderBy)
 *   .limit(keyset.fetchLimit);
 * return keyset.page(rows, (row) => row.requestedAt);
 */
export function newestFirstKeyset(request: PageRequest, columns: NewestFirstColumns): NewestFirstKeyset {
  const limit = checkLimit(request.limit);
  const cursor = request.cursor === undefined ? undefined : decodeTimeCursor(request.cursor);
  return {
    after:
      cursor === undefined
        ? undefined
        : or(lt(columns.at, cursor.at), and(eq(columns.at, cursor.at), lt(columns.id, cursor.id))),
    orderBy: [desc(columns.at), desc(columns.id)],
    fetchLimit: limit + 1,
    page: (rows, atOf) => toPage(rows, limit, (row) => encodeTimeCursor(atOf(row), row.id)),
  };
}
