/** Data access for admin tokens and dashboard sessions: hashes only, never a credential. */
import { and, asc, count, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { type AdminToken, adminSessions, adminTokens } from "../db/schema.ts";

export function createAdminAuthDal({ db }: { db: Database }) {
  return {
    async findTokenByHash(tokenHash: string): Promise<AdminToken | undefined> {
      const [row] = await db.select().from(adminTokens).where(eq(adminTokens.tokenHash, tokenHash));
      return row;
    },

    async insertToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken> {
      const [row] = await db.insert(adminTokens).values(input).returning();
      if (!row) throw new Error("Inserting an admin token returned no row");
      return row;
    },

    /**
     * Inserts the bootstrap token only while no admin token row exists at all. Revoked rows are kept, so
     * once any token existed (the bootstrap token revoked included) the environment installs nothing.
     */
    async insertFirstToken(input: { id: string; name: string; tokenHash: string }): Promise<boolean> {
      return db.transaction(async (tx) => {
        // Serialise concurrent bootstraps: the first holds the lock, the others then see its row.
        await tx.execute(sql`lock table ${adminTokens} in share row exclusive mode`);
        const [existing] = await tx.select({ n: count() }).from(adminTokens);
        if ((existing?.n ?? 0) > 0) return false;
        await tx.insert(adminTokens).values({ ...input, bootstrap: true });
        return true;
      });
    },

    /** The bootstrap token while it is not revoked: what the vault and the dashboard warn about. */
    async findActiveBootstrapToken(): Promise<AdminToken | undefined> {
      const [row] = await db
        .select()
        .from(adminTokens)
        .where(and(eq(adminTokens.bootstrap, true), isNull(adminTokens.revokedAt)))
        .limit(1);
      return row;
    },

    async listTokens(): Promise<AdminToken[]> {
      return db.select().from(adminTokens).orderBy(asc(adminTokens.createdAt));
    },

    /** Revokes active tokens with this id or name; their sessions end with them. Returns how many. */
    async revokeTokens(match: { id: string } | { name: string }): Promise<AdminToken[]> {
      const where = "id" in match ? eq(adminTokens.id, match.id) : eq(adminTokens.name, match.name);
      const revoked = await db
        .update(adminTokens)
        .set({ revokedAt: sql`now()` })
        .where(and(where, isNull(adminTokens.revokedAt)))
        .returning();
      for (const token of revoked)
        await db.delete(adminSessions).where(eq(adminSessions.adminTokenId, token.id));
      return revoked;
    },

    async touchToken(id: string): Promise<void> {
      await db.update(adminTokens).set({ lastUsedAt: sql`now()` }).where(eq(adminTokens.id, id));
    },

    async insertSession(input: {
      sessionHash: string;
      adminTokenId: string;
      expiresAt: Date;
    }): Promise<void> {
      await db.insert(adminSessions).values(input);
    },

    /** The live session with this hash and its token, when neither has ended. */
    async findSession(sessionHash: string, now: Date) {
      const [row] = await db
        .select({ session: adminSessions, token: adminTokens })
        .from(adminSessions)
        .innerJoin(adminTokens, eq(adminTokens.id, adminSessions.adminTokenId))
        .where(
          and(
            eq(adminSessions.sessionHash, sessionHash),
            gt(adminSessions.expiresAt, now),
            isNull(adminTokens.revokedAt),
          ),
        );
      return row;
    },

    async deleteSession(sessionHash: string): Promise<boolean> {
      const rows = await db
        .delete(adminSessions)
        .where(eq(adminSessions.sessionHash, sessionHash))
        .returning({ hash: adminSessions.sessionHash });
      return rows.length > 0;
    },

    async deleteExpiredSessions(now: Date): Promise<number> {
      const rows = await db
        .delete(adminSessions)
        .where(lt(adminSessions.expiresAt, now))
        .returning({ hash: adminSessions.sessionHash });
      return rows.length;
    },
  };
}

export type AdminAuthDal = ReturnType<typeof createAdminAuthDal>;
