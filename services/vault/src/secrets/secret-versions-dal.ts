/** Data access for kept secret values: never decrypted here. */
import { and, desc, eq, lte } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { type SecretVersion, secretVersions } from "../db/schema.ts";

export function createSecretVersionsDal({ db }: { db: Database }) {
  return {
    async insert(input: {
      secretId: string;
      version: number;
      valueEncrypted: Uint8Array;
      keyId: number;
      createdBy: string;
      restoredFrom?: number;
    }): Promise<void> {
      await db.insert(secretVersions).values(input);
    },

    /** Deletes versions older than the newest `keep`. */
    async prune(secretId: string, currentVersion: number, keep: number): Promise<void> {
      await db
        .delete(secretVersions)
        .where(
          and(eq(secretVersions.secretId, secretId), lte(secretVersions.version, currentVersion - keep)),
        );
    },

    /** Kept versions, newest first, without their values. */
    async list(secretId: string): Promise<Omit<SecretVersion, "valueEncrypted">[]> {
      return db
        .select({
          secretId: secretVersions.secretId,
          version: secretVersions.version,
          keyId: secretVersions.keyId,
          createdAt: secretVersions.createdAt,
          createdBy: secretVersions.createdBy,
          restoredFrom: secretVersions.restoredFrom,
        })
        .from(secretVersions)
        .where(eq(secretVersions.secretId, secretId))
        .orderBy(desc(secretVersions.version));
    },

    async find(secretId: string, version: number): Promise<SecretVersion | undefined> {
      const [row] = await db
        .select()
        .from(secretVersions)
        .where(and(eq(secretVersions.secretId, secretId), eq(secretVersions.version, version)));
      return row;
    },
  };
}

export type SecretVersionsDal = ReturnType<typeof createSecretVersionsDal>;
