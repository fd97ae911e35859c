import { apiErrors } from "../http/api-error.ts";

export const defaultPageSize = 100;
export const maxPageSize = 1_000;

/** The page size to ask the vault for; 422 on `limit` when outside 1–1000. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return defaultPageSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
    throw apiErrors.invalid([{ field: "limit", message: `must be between 1 and ${maxPageSize}` }]);
  }
  return limit;
}

/** Timestamps in replies: ISO-8601, or null for an unset optional one. */
export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : iso(ms));

/** The vault's empty strings for "none" as null. */
export const orNull = (text: string) => (text === "" ? null : text);

/** A full queue from the vault's list reply, with its empty strings as null. */
export const pendingLimitView = (limit: {
  serviceName: string;
  clientAddress: string;
  pending: number;
  limit: number;
}) => ({
  serviceName: orNull(limit.serviceName),
  clientAddress: orNull(limit.clientAddress),
  pending: limit.pending,
  limit: limit.limit,
});
