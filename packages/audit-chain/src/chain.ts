/**
 * The audit trail's hash chain. Each shipped line carries `seq` (its stream sequence), `prev_hash` (the
 * chain's hash at the previous position) and `hash` = SHA-256(prev_hash ‖ canonical), where canonical is
 * the line's JSON without `prev_hash` and `hash` (and without the fields parking adds), `seq` included so
 * an event cannot be moved to another position. Lines are compact JSON written by `JSON.stringify`, so
 * parsing and re-serialising without those keys reproduces the canonical bytes exactly (key order is kept).
 */
import { createHash } from "node:crypto";

/** The `prev_hash` of the first position of a chain. */
export const genesisHash = "0".repeat(64);

/** Fields outside the hashed bytes: the link itself, and what parking adds to a line afterwards. */
const unhashedFields = new Set(["prev_hash", "hash", "parked_at", "park_reason", "stream_seq"]);

/** The canonical bytes of a parsed line: its JSON without the unhashed fields. */
export function canonicalOf(record: Record<string, unknown>): string {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!unhashedFields.has(key)) kept[key] = value;
  return JSON.stringify(kept);
}

/** SHA-256(prevHash ‖ canonical), hex. node:crypto: a synchronous hash is several times faster under Bun than awaited Web Crypto. */
export function linkHash(prevHash: string, canonical: string): string {
  return createHash("sha256").update(prevHash).update(canonical).digest("hex");
}

export interface ChainPoint {
  /** The position (stream sequence); 0 before the first. */
  seq: number;
  /** The chain's hash at that position; `genesisHash` before the first. */
  hash: string;
}
