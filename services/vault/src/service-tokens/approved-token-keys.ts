/**
 * The approved token keys a gateway asks for (`approved-token-keys`): one short key per approved token,
 * derived from its hash (`@secrets/bus` approvedTokenKey), most recently used first when there are more
 * than one reply holds.
 */
import { approvedTokenKey, maxApprovedTokenKeys, packApprovedTokenKeys } from "@secrets/bus";
import { count, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { serviceTokens } from "../db/schema.ts";

export function createApprovedTokenKeys(deps: { db: Database; maxKeys?: number }) {
  const maxKeys = deps.maxKeys ?? maxApprovedTokenKeys;
  return async function approvedTokenKeys(): Promise<{ keys: Uint8Array; omitted: number }> {
    const approved = eq(serviceTokens.status, "approved");
    const rows = await deps.db
      .select({ tokenHash: serviceTokens.tokenHash })
      .from(serviceTokens)
      .where(approved)
      .orderBy(sql`${serviceTokens.lastUsedAt} desc nulls last`, desc(serviceTokens.id))
      .limit(maxKeys);
    let omitted = 0;
    if (rows.length === maxKeys) {
      const [total] = await deps.db.select({ n: count() }).from(serviceTokens).where(approved);
      omitted = Math.max(0, Number(total?.n ?? 0) - rows.length);
    }
    return { keys: packApprovedTokenKeys(rows.map((row) => approvedTokenKey(row.tokenHash))), omitted };
  };
}

export type ApprovedTokenKeys = ReturnType<typeof createApprovedTokenKeys>;
