import { silentLogger } from "@secrets/logger";
import { createTestDatabase } from "@secrets/test/support/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheChange } from "../cache/cache-invalidation.ts";
import { type OpenedDatabase, openDatabase } from "../db/connection.ts";
import { accessRequests, secrets, serviceTokens } from "../db/schema.ts";
import { createExpiryDal } from "./expiry-dal.ts";
import { createPendingExpiry } from "./pending-expiry.ts";

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let opened: OpenedDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
  opened = await openDatabase({ databaseUrl: testDb.url, dataDir: "/tmp", maxConnections: 2 });
});
afterAll(async () => {
  await opened?.close();
  await testDb?.drop();
});

describe("expiry of pending approvals", () => {
  it("removes pending tokens and access requests older than the limit, audits each, keeps the rest", async () => {
    const day = 86_400_000;
    const old = new Date(Date.now() - 40 * day);
    const recent = new Date(Date.now() - 1 * day);
    const token = (serviceName: string, status: "pending" | "approved", requestedAt: Date) => ({
      id: Bun.randomUUIDv7(),
      serviceName,
      tokenHash: Bun.randomUUIDv7(),
      status,
      requestedAt,
    });
    const staleToken = token("stale", "pending", old);
    await opened.db
      .insert(serviceTokens)
      .values([staleToken, token("fresh", "pending", recent), token("approved-long-ago", "approved", old)]);
    const secretId = Bun.randomUUIDv7();
    await opened.db
      .insert(secrets)
      .values({ id: secretId, name: "OLD_ASK", createdBy: "stale", isStub: true });
    await opened.db.insert(accessRequests).values([
      { id: Bun.randomUUIDv7(), secretId, serviceName: "stale", status: "pending", requestedAt: old },
      { id: Bun.randomUUIDv7(), secretId, serviceName: "fresh", status: "pending", requestedAt: recent },
      { id: Bun.randomUUIDv7(), secretId, serviceName: "granted", status: "granted", requestedAt: old },
    ]);
    const events: Record<string, unknown>[] = [];
    const announced: CacheChange[] = [];
    const expiry = createPendingExpiry({
      dal: createExpiryDal({ db: opened.db }),
      audit: {
        change: async <T>(facts: Record<string, unknown>, work: () => Promise<{ result: T }>) => {
          events.push(facts);
          return (await work()).result;
        },
      } as never,
      invalidate: async (change) => {
        announced.push(change);
      },
      logger: silentLogger,
      options: { maxAgeMs: 30 * day, checkIntervalMs: 60_000 },
    });
    expect(await expiry.expireOnce()).toEqual({ tokens: 1, accessRequests: 1 });
    const tokens = (await opened.db.select().from(serviceTokens)).map((t) => t.serviceName).sort();
    expect(tokens).toEqual(["approved-long-ago", "fresh"]);
    const requests = (await opened.db.select().from(accessRequests)).map((r) => r.serviceName).sort();
    expect(requests).toEqual(["fresh", "granted"]);
    expect(events).toEqual([
      expect.objectContaining({ event: "token.expire", serviceName: "stale", actor: "system:expiry" }),
      expect.objectContaining({ event: "access.expire", serviceName: "stale", secretName: "OLD_ASK" }),
    ]);
    // Every vault's cache hears which token and which request are gone.
    expect(announced).toEqual([
      { tokenIds: [staleToken.id], accessRequests: [{ secretId, serviceName: "stale" }] },
    ]);
    expect(await expiry.expireOnce()).toEqual({ tokens: 0, accessRequests: 0 });
    expect(announced).toHaveLength(1);
  });
});
