/** Data access for watching: which of some secrets a service is granted, and their current versions. */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { accessRequests, secrets } from "../db/schema.ts";

/** A secret a service may watch: granted to it and active. */
export interface WatchableSecret {
  id: string;
  name: string;
  /** The current value's version; 0 while the secret has no value. */
  version: number;
}

export function createWatchDal({ db }: { db: Database }) {
  return {
    /**
     * The secrets among `names` that `serviceName` is granted (access request `granted`) and that are
     * active, sorted by name. One query, whatever the number of names; unknown names are left out.
     */
    async grantedVersions(serviceName: string, names: readonly string[]): Promise<WatchableSecret[]> {
      if (names.length === 0) return [];
      return db
        .select({ id: secrets.id, name: secrets.name, version: secrets.version })
        .from(secrets)
        .innerJoin(
          accessRequests,
          and(eq(accessRequests.secretId, secrets.id), eq(accessRequests.serviceName, serviceName)),
        )
        .where(
          and(
            inArray(secrets.name, [...names]),
            eq(secrets.isActive, true),
            eq(accessRequests.status, "granted"),
          ),
        )
        .orderBy(asc(secrets.name));
    },
  };
}

export type WatchDal = ReturnType<typeof createWatchDal>;
