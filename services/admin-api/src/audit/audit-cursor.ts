/**
 * Paging the audit trail, newest first. The audit service answers a time window (both ends inclusive)
 * with at most `limit` events, so a page's cursor holds where the next page's window ends (the oldest
 * event's time) and the ids of the events at that millisecond already shown, which the next page skips.
 * The window's start is kept too, so that "the last 24 hours" stays the same 24 hours from page to page.
 */
import { apiErrors } from "../http/api-error.ts";

export interface AuditCursor {
  /** The next page's newest time, ms since the epoch (inclusive). */
  toMs: number;
  /** The window's oldest time, ms since the epoch (inclusive). */
  fromMs: number;
  /** Events at `toMs` that earlier pages showed. */
  skipIds: string[];
}

const uuidPattern = /^[0-9a-f-]{36}$/i;
/** More events in one millisecond than this are not paged through (far above any real rate). */
export const maxSkippedIds = 500;

export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.toMs, cursor.fromMs, cursor.skipIds])).toString("base64url");
}

/** The cursor a client sent back; 422 on `cursor` when it is not one this API made. */
export function decodeAuditCursor(text: string): AuditCursor {
  const invalid = () => apiErrors.invalid([{ field: "cursor", message: "is not a cursor of this list" }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [toMs, fromMs, skipIds] = parsed as unknown[];
  const isTime = (value: unknown): value is number =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
  if (!isTime(toMs) || !isTime(fromMs) || fromMs > toMs) throw invalid();
  if (!Array.isArray(skipIds) || skipIds.length > maxSkippedIds) throw invalid();
  if (!skipIds.every((id): id is string => typeof id === "string" && uuidPattern.test(id))) throw invalid();
  return { toMs, fromMs, skipIds };
}
