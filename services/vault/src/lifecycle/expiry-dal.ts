/** Data access for expiring what waited too long for an admin: pending tokens and access requests. */
import { and, eq, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { accessRequests, secrets, serviceTokens } from "../db/schema.ts";

export function createExpiryDal({ db }: { db: Database }) {
  return {
    /** Deletes pending tokens requested before `before`; each deleted row is returned once. */
    async expirePendingTokens(before: Date) {
      return db
        .delete(serviceTokens)
        .where(and(eq(serviceTokens.status, "pending"), lt(serviceTokens.requestedAt, before)))
        .returning({ id: serviceTokens.id, serviceName: serviceTokens.serviceName });
    },

    /** Deletes pending access requests made before `before`, with their secrets' names. */
    async expirePendingAccessRequests(before: Date) {
      const expired = await db
        .delete(accessRequests)
        .where(and(eq(accessRequests.status, "pending"), lt(accessRequests.requestedAt, before)))
        .returning({
          id: accessRequests.id,
          secretId: accessRequests.secretId,
          serviceName: accessRequests.serviceName,
        });
      if (expired.length === 0) return [];
      // Only the names of these secrets: reading every secret's would cost memory with 100,000 of them.
      const secretIds = [...new Set(expired.map((row) => row.secretId))];
      const names = new Map(
        (
          await db
            .select({ id: secrets.id, name: secrets.name })
            .from(secrets)
            .where(inArray(secrets.id, secretIds))
        ).map((row) => [row.id, row.name]),
      );
      return expired.map((row) => ({ ...row, secretName: names.get(row.secretId) ?? "" }));
    },
  };
}

export type ExpiryDal = ReturnType<typeof createExpiryDal>;
