/**
 * Opaque keyset-paging cursors: the sort key of the last row of a page, encoded so that callers pass it
 * back unchanged instead of building one.
 */

/** A cursor that was not produced by this module (edited, truncated, or from another list). */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
  constructor() {
    super("The paging cursor is invalid; start again from the first page.");
  }
}

/** One page of a list and, when more rows follow, the cursor for the next page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
}

/** Paging input shared by every list. */
export interface PageRequest {
  /** Rows per page, at least 1. */
  limit: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string | undefined;
}

export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

/** Decodes a cursor of exactly `length` parts; throws InvalidCursorError otherwise. */
export function decodeCursor(cursor: string, length: number): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(parts) || parts.length !== length || !parts.every((part) => typeof part === "string")) {
    throw new InvalidCursorError();
  }
  return parts;
}

/** Decodes a `[timestamp, id]` cursor as used by the newest-first lists. */
export function decodeTimeCursor(cursor: string): { at: Date; id: string } {
  const [at = "", id = ""] = decodeCursor(cursor, 2);
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) throw new InvalidCursorError();
  return { at: date, id };
}

export function encodeTimeCursor(at: Date, id: string): string {
  return encodeCursor([at.toISOString(), id]);
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only signals that another page exists.
 * `keyOf` builds the cursor from the last row kept.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: last === undefined ? undefined : keyOf(last) };
}

/** Rejects a limit that is not a positive integer, which would otherwise page forever or never. */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/** Escapes `%`, `_` and `\` so user input matches literally inside a LIKE pattern. */
export function escapeLike(input: string): string {
  return input.replace(/[\\%_]/g, (character) => `\\${character}`);
}
