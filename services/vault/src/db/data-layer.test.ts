/**
 * The data layer against both backends: real PostgreSQL (a throwaway database) and PGlite (a temp dir).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@secrets/test/support/postgres";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAccessRequestsDal } from "../access-requests/access-requests-dal.ts";
import { createSecretsDal } from "../secrets/secrets-dal.ts";
import { createServiceTokensDal } from "../service-tokens/service-tokens-dal.ts";
import { type Database, type DatabaseKind, type OpenedDatabase, openDatabase } from "./connection.ts";
import { InvalidCursorError, type Page } from "./cursor.ts";
import { PgErrorCode, pgErrorCode } from "./errors.ts";
import { PendingLimitReachedError } from "./pending-limits.ts";
import { accessRequests, secrets, secretVersions, serviceTokens } from "./schema.ts";

const backends: DatabaseKind[] = ["postgres", "pglite"];

/** Rejects with the given SQLSTATE. */
async function expectPgError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, "expected the query to fail").toBeInstanceOf(Error);
  expect(pgErrorCode(error)).toBe(code);
}

/** Every item of a list, following cursors page by page. */
async function collect<T>(
  list: (cursor: string | undefined) => Promise<Page<T>>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 100);
  return { items, pages };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe.each(backends)("data layer on %s", (kind) => {
  let dataDir: string;
  let testDatabase: TestDatabase | undefined;
  let opened: OpenedDatabase;
  let db: Database;
  let secretsDal: ReturnType<typeof createSecretsDal>;
  let tokensDal: ReturnType<typeof createServiceTokensDal>;
  let requestsDal: ReturnType<typeof createAccessRequestsDal>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "vault-data-layer-"));
    testDatabase = kind === "postgres" ? await createTestDatabase() : undefined;
    opened = await openDatabase({ databaseUrl: testDatabase?.url, dataDir });
    db = opened.db;
    secretsDal = createSecretsDal({ db });
    tokensDal = createServiceTokensDal({ db });
    requestsDal = createAccessRequestsDal({ db });
  });

  afterAll(async () => {
    await opened?.close();
    await testDatabase?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await db.execute(sql`truncate ${secretVersions}, ${accessRequests}, ${secrets}, ${serviceTokens}`);
  });

  const newSecret = (
    name: string,
    extra: { description?: string; valueEncrypted?: Uint8Array; keyId?: number } = {},
  ) =>
    secretsDal.insert({
      id: Bun.randomUUIDv7(),
      name,
      description: extra.description,
      createdBy: "admin",
      ...(extra.valueEncrypted
        ? { valueEncrypted: extra.valueEncrypted, keyId: extra.keyId ?? 1, version: 1 }
        : { valueEncrypted: null, keyId: null }),
    });

  const insertPendingToken = async (serviceName: string, tokenHash = Bun.randomUUIDv7()) => {
    const id = Bun.randomUUIDv7();
    await tokensDal.insertPending({ id, serviceName, serviceVersion: "1.0.0", tokenHash });
    return id;
  };

  it("opens the expected backend with the migrations applied", async () => {
    expect(opened.kind).toBe(kind);
    const [row] = await db.select({ tables: count() }).from(secrets);
    expect(row?.tables).toBe(0);
  });

  describe("secrets", () => {
    it("inserts and finds a secret by name and id, with defaults and bytes intact", async () => {
      const inserted = await newSecret("STRIPE_KEY", { valueEncrypted: bytes(1, 2, 255), keyId: 0xffffffff });
      expect(inserted).toMatchObject({
        name: "STRIPE_KEY",
        description: "",
        keyId: 0xffffffff,
        createdBy: "admin",
        isActive: true,
        isStub: false,
      });
      expect(inserted.createdAt).toBeInstanceOf(Date);
      const byName = await secretsDal.findByName("STRIPE_KEY");
      expect(byName).toEqual(inserted);
      expect(Object.getPrototypeOf(byName?.valueEncrypted)).toBe(Uint8Array.prototype);
      expect([...(byName?.valueEncrypted ?? [])]).toEqual([1, 2, 255]);
      expect(await secretsDal.findById(inserted.id)).toEqual(inserted);
      expect(await secretsDal.findByName("MISSING")).toBeUndefined();
      expect(await secretsDal.findById("missing")).toBeUndefined();
    });

    it("rejects a duplicate name", async () => {
      await newSecret("DUPLICATE");
      await expectPgError(newSecret("DUPLICATE"), PgErrorCode.uniqueViolation);
    });

    it("updates fields, bumps updated_at, and returns undefined for an unknown id", async () => {
      const secret = await newSecret("UPDATED", { description: "old" });
      await Bun.sleep(5);
      const updated = await secretsDal.update(secret.id, { valueEncrypted: bytes(9), keyId: 7, version: 1 });
      expect(updated).toMatchObject({ description: "old", keyId: 7, version: 1 });
      expect([...(updated?.valueEncrypted ?? [])]).toEqual([9]);
      expect(updated?.updatedAt.getTime()).toBeGreaterThan(secret.updatedAt.getTime());
      const described = await secretsDal.update(secret.id, { description: "new" });
      expect(described).toMatchObject({ description: "new", keyId: 7, version: 1 });
      expect(await secretsDal.update("missing", { description: "x" })).toBeUndefined();
    });

    it("keeps a service's pending requests, stubs included, at its limit under concurrency", async () => {
      const limit = 10;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          secretsDal.createStubWithAccessRequest({
            name: `FLOOD_${i}`,
            description: "junk",
            serviceName: "flood",
            pendingLimit: limit,
          }),
        ),
      );
      const refused = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason);
      expect(refused).toHaveLength(40);
      expect(refused.every((e) => e instanceof PendingLimitReachedError)).toBe(true);
      expect((refused[0] as PendingLimitReachedError).hit).toEqual({
        scope: "service",
        key: "flood",
        pending: limit,
        limit,
      });
      const [stubs] = await db.select({ n: count() }).from(secrets).where(eq(secrets.createdBy, "flood"));
      expect(stubs?.n).toBe(limit);
      expect(await requestsDal.pendingLimitsReached(limit)).toEqual([
        { scope: "service", key: "flood", pending: limit, limit },
      ]);

      // At the limit: a name it already asked for is still answered, an existing secret is refused.
      const again = await secretsDal.createStubWithAccessRequest({
        name: "FLOOD_0",
        description: "",
        serviceName: "flood",
        pendingLimit: limit,
      });
      expect(again.stubCreated).toBe(false);
      const existing = await newSecret("FLOOD_EXISTING");
      await expect(
        requestsDal.requestAccess({ secretId: existing.id, serviceName: "flood" }, limit),
      ).rejects.toBeInstanceOf(PendingLimitReachedError);
      // Another service is not held up, and a decision frees a place.
      await secretsDal.createStubWithAccessRequest({
        name: "OTHER",
        description: "",
        serviceName: "other",
        pendingLimit: limit,
      });
      await requestsDal.decide(again.accessRequest.id, "denied", "admin");
      const admitted = await requestsDal.requestAccess(
        { secretId: existing.id, serviceName: "flood" },
        limit,
      );
      expect(admitted.status).toBe("pending");
    });

    it("keeps pending tokens at their limits per name, per address and in all, under concurrency", async () => {
      const limits = { tokensPerService: 3, tokensPerAddress: 5, tokensTotal: 8 };
      const register = (serviceName: string, clientAddress: string) =>
        tokensDal.insertPendingWithinLimits(
          {
            id: Bun.randomUUIDv7(),
            serviceName,
            serviceVersion: "1",
            tokenHash: Bun.randomUUIDv7().replaceAll("-", "").padEnd(64, "0"),
            clientAddress,
          },
          limits,
        );
      const hits = async (attempts: Promise<boolean>[]) =>
        (await Promise.allSettled(attempts)).map((o) =>
          o.status === "fulfilled" ? "stored" : (o.reason as PendingLimitReachedError).hit.scope,
        );
      const sameName = await hits(Array.from({ length: 20 }, (_, i) => register("payments", `10.1.0.${i}`)));
      expect(sameName.filter((o) => o === "stored")).toHaveLength(3);
      expect(sameName.filter((o) => o === "service")).toHaveLength(17);
      const sameAddress = await hits(Array.from({ length: 20 }, (_, i) => register(`svc-${i}`, "10.2.0.1")));
      expect(sameAddress.filter((o) => o === "stored")).toHaveLength(5);
      expect(sameAddress.filter((o) => o === "address")).toHaveLength(15);
      expect(await tokensDal.pendingLimitsReached(limits)).toEqual([
        { scope: "service", key: "payments", pending: 3, limit: 3 },
        { scope: "address", key: "10.2.0.1", pending: 5, limit: 5 },
      ]);
      expect(await hits([register("orders", "10.3.0.1"), register("billing", "10.3.0.2")])).toEqual([
        "all",
        "all",
      ]);
      const [row] = await db.select().from(serviceTokens).where(eq(serviceTokens.serviceName, "payments"));
      expect(row?.clientAddress).toMatch(/^10\.1\.0\.\d+$/);
    });

    it("removes a secret and cascades to its access requests", async () => {
      const secret = await newSecret("REMOVED");
      const request = await requestsDal.insertPending({ secretId: secret.id, serviceName: "billing" });
      expect(await secretsDal.remove(secret.id)).toBe(true);
      expect(await secretsDal.remove(secret.id)).toBe(false);
      expect(await requestsDal.findById(request.id)).toBeUndefined();
    });

    it("lists by name in pages, with requesters and without ciphertext", async () => {
      const names = ["alpha", "bravo", "charlie", "delta", "echo"];
      for (const name of [...names].reverse()) await newSecret(name, { valueEncrypted: bytes(1), keyId: 1 });
      const charlie = await secretsDal.findByName("charlie");
      for (const service of ["zeta", "api", "mail"]) {
        await requestsDal.insertPending({ secretId: charlie?.id ?? "", serviceName: service });
      }
      const { items, pages } = await collect((cursor) => secretsDal.list({ limit: 2, cursor }));
      expect(pages).toBe(3);
      expect(items.map((item) => item.name)).toEqual(names);
      const listedCharlie = items.find((item) => item.name === "charlie");
      expect(listedCharlie).toMatchObject({ hasValue: true, requestedBy: ["api", "mail", "zeta"] });
      expect(listedCharlie).not.toHaveProperty("valueEncrypted");
      expect(items.find((item) => item.name === "alpha")?.requestedBy).toEqual([]);
      const exact = await secretsDal.list({ limit: 5 });
      expect(exact.items).toHaveLength(5);
      expect(exact.nextCursor).toBeUndefined();
    });

    it("matches the query case-insensitively on name or description, LIKE wildcards literally", async () => {
      await newSecret("a%b");
      await newSecret("a_b");
      await newSecret("axb", { description: "Holds the PAYMENT key" });
      await newSecret("a\\b");
      const names = async (query: string) =>
        (await secretsDal.list({ query, limit: 10 })).items.map((item) => item.name);
      expect(await names("%")).toEqual(["a%b"]);
      expect(await names("_")).toEqual(["a_b"]);
      expect(await names("\\")).toEqual(["a\\b"]);
      expect(await names("payment")).toEqual(["axb"]);
      expect(await names("AXB")).toEqual(["axb"]);
      expect(await names("b")).toHaveLength(4);
    });

    it("lists only stubs without a value when missingOnly is set", async () => {
      await secretsDal.createStubWithAccessRequest({ name: "missing", description: "", serviceName: "api" });
      const filled = await secretsDal.createStubWithAccessRequest({
        name: "filled",
        description: "",
        serviceName: "api",
      });
      await secretsDal.update(filled.secret.id, { valueEncrypted: bytes(1), keyId: 1, version: 1 });
      await newSecret("admin-created-empty");
      const page = await secretsDal.list({ missingOnly: true, limit: 10 });
      expect(page.items.map((item) => [item.name, item.hasValue, item.requestedBy])).toEqual([
        ["missing", false, ["api"]],
      ]);
    });

    it("rejects a cursor it did not produce", async () => {
      await expect(secretsDal.list({ limit: 1, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      await expect(secretsDal.list({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe("stubs", () => {
    it("creates a stub and a pending request once, then finds them", async () => {
      const first = await secretsDal.createStubWithAccessRequest({
        name: "DB_URL",
        description: "database",
        serviceName: "api",
      });
      expect(first.stubCreated).toBe(true);
      expect(first.secret).toMatchObject({
        name: "DB_URL",
        description: "database",
        createdBy: "api",
        isStub: true,
        valueEncrypted: null,
        keyId: null,
      });
      expect(first.accessRequest).toMatchObject({
        secretId: first.secret.id,
        serviceName: "api",
        status: "pending",
      });
      const again = await secretsDal.createStubWithAccessRequest({
        name: "DB_URL",
        description: "other",
        serviceName: "api",
      });
      expect(again.stubCreated).toBe(false);
      expect(again.secret).toEqual(first.secret);
      expect(again.accessRequest).toEqual(first.accessRequest);
    });

    it("adds a request to an existing secret without marking it a stub", async () => {
      const existing = await newSecret("EXISTING", { valueEncrypted: bytes(1), keyId: 1 });
      const result = await secretsDal.createStubWithAccessRequest({
        name: "EXISTING",
        description: "",
        serviceName: "mail",
      });
      expect(result.stubCreated).toBe(false);
      expect(result.secret.id).toBe(existing.id);
      expect(result.secret.isStub).toBe(false);
      expect(result.accessRequest.status).toBe("pending");
    });

    it("creates exactly one secret and one request per service under 500 concurrent calls", async () => {
      const services = ["api", "mail", "billing", "search", "jobs"];
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, index) =>
          secretsDal.createStubWithAccessRequest({
            name: "CONCURRENT",
            description: "raced",
            serviceName: services[index % services.length] ?? "api",
          }),
        ),
      );
      expect(results.filter((result) => result.stubCreated)).toHaveLength(1);
      expect(new Set(results.map((result) => result.secret.id)).size).toBe(1);
      expect(new Set(results.map((result) => result.accessRequest.id)).size).toBe(services.length);
      const [secretRows] = await db
        .select({ n: count() })
        .from(secrets)
        .where(eq(secrets.name, "CONCURRENT"));
      const [requestRows] = await db.select({ n: count() }).from(accessRequests);
      expect(secretRows?.n).toBe(1);
      expect(requestRows?.n).toBe(services.length);
    });
  });

  describe("service tokens", () => {
    it("inserts a pending token once per hash and finds it by hash and id", async () => {
      const id = Bun.randomUUIDv7();
      const input = { id, serviceName: "api", serviceVersion: "2.1.0", tokenHash: "ab".repeat(32) };
      expect(await tokensDal.insertPending(input)).toBe(true);
      expect(await tokensDal.insertPending({ ...input, id: Bun.randomUUIDv7() })).toBe(false);
      const token = await tokensDal.findByHash(input.tokenHash);
      expect(token).toMatchObject({
        id,
        serviceName: "api",
        serviceVersion: "2.1.0",
        status: "pending",
        approved: false,
        approvedAt: null,
        approvedBy: null,
        lastUsedAt: null,
        accessCount: 0,
      });
      expect(await tokensDal.findById(id)).toEqual(token);
      expect(await tokensDal.findByHash("cd".repeat(32))).toBeUndefined();
      expect(await tokensDal.findById("missing")).toBeUndefined();
    });

    it("enforces a unique token hash and the status check in the database", async () => {
      const row = { serviceName: "api", tokenHash: "same" };
      await db.insert(serviceTokens).values({ ...row, id: "one" });
      await expectPgError(
        db.insert(serviceTokens).values({ ...row, id: "two" }),
        PgErrorCode.uniqueViolation,
      );
      await expectPgError(
        db
          .insert(serviceTokens)
          .values({ id: "three", serviceName: "api", tokenHash: "other", status: "bogus" as never }),
        PgErrorCode.checkViolation,
      );
    });

    it("counts pending tokens and sets statuses, deriving approved", async () => {
      const first = await insertPendingToken("api");
      await insertPendingToken("api");
      expect(await tokensDal.countPending()).toBe(2);
      const approved = await tokensDal.setStatus(first, "approved", "alice");
      expect(approved).toMatchObject({ status: "approved", approved: true, approvedBy: "alice" });
      expect(approved?.approvedAt).toBeInstanceOf(Date);
      expect(await tokensDal.countPending()).toBe(1);
      const revoked = await tokensDal.setStatus(first, "revoked", "bob");
      expect(revoked).toMatchObject({ status: "revoked", approved: false, approvedBy: "alice" });
      expect(await tokensDal.setStatus("missing", "denied", "bob")).toBeUndefined();
    });

    it("lists newest first in pages, with the grants each token inherits", async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index++)
        ids.push(await insertPendingToken(index % 2 === 0 ? "billing" : "mail"));
      // Equal timestamps for the three newest: the cursor must break the tie by id.
      const tied = new Date("2030-01-01T00:00:00.123Z");
      for (const id of ids.slice(2)) {
        await db.update(serviceTokens).set({ requestedAt: tied }).where(eq(serviceTokens.id, id));
      }
      const secret = await newSecret("SHARED");
      const other = await newSecret("OTHER");
      for (const [secretId, service] of [
        [secret.id, "billing"],
        [other.id, "billing"],
        [secret.id, "mail"],
      ] as const) {
        const request = await requestsDal.insertPending({ secretId, serviceName: service });
        if (service === "billing") await requestsDal.decide(request.id, "granted", "alice");
      }
      const { items, pages } = await collect((cursor) => tokensDal.list({ limit: 2, cursor }));
      expect(pages).toBe(3);
      expect(items.map((item) => item.id)).toEqual([...ids].reverse());
      expect(items.map((item) => [item.serviceName, item.inheritedAccessRequests])).toEqual([
        ["billing", 2],
        ["mail", 0],
        ["billing", 2],
        ["mail", 0],
        ["billing", 2],
      ]);
      await tokensDal.setStatus(ids[0] ?? "", "approved", "alice");
      const approved = await tokensDal.list({ status: "approved", limit: 10 });
      expect(approved.items.map((item) => item.id)).toEqual([ids[0]]);
    });

    it("adds batched usage in one statement and never moves last_used_at back", async () => {
      const first = await insertPendingToken("api");
      const second = await insertPendingToken("mail");
      const early = new Date("2030-01-01T00:00:00.000Z");
      const late = new Date("2030-01-02T00:00:00.000Z");
      await tokensDal.recordUsage([
        { id: first, count: 3, lastUsedAt: early },
        { id: second, count: 1, lastUsedAt: late },
        { id: first, count: 2, lastUsedAt: late },
        { id: "unknown", count: 9, lastUsedAt: late },
      ]);
      await tokensDal.recordUsage([{ id: first, count: 10, lastUsedAt: early }]);
      await tokensDal.recordUsage([]);
      expect(await tokensDal.findById(first)).toMatchObject({ accessCount: 15, lastUsedAt: late });
      expect(await tokensDal.findById(second)).toMatchObject({ accessCount: 1, lastUsedAt: late });
    });
  });

  describe("access requests", () => {
    it("inserts a pending request once and finds it", async () => {
      const secret = await newSecret("SECRET");
      const request = await requestsDal.insertPending({ secretId: secret.id, serviceName: "api" });
      expect(request).toMatchObject({
        secretId: secret.id,
        serviceName: "api",
        status: "pending",
        grantedAt: null,
        grantedBy: null,
        accessCount: 0,
        lastAccessedAt: null,
        requestedDescription: "",
      });
      expect(await requestsDal.insertPending({ secretId: secret.id, serviceName: "api" })).toEqual(request);
      expect(await requestsDal.find(secret.id, "api")).toEqual(request);
      expect(await requestsDal.findById(request.id)).toEqual(request);
      expect(await requestsDal.find(secret.id, "mail")).toBeUndefined();
    });

    it("enforces the secret reference, one request per pair, and the status check", async () => {
      await expectPgError(
        requestsDal.insertPending({ secretId: "missing", serviceName: "api" }),
        PgErrorCode.foreignKeyViolation,
      );
      const secret = await newSecret("SECRET");
      const row = { secretId: secret.id, serviceName: "api", status: "pending" as const };
      await db.insert(accessRequests).values({ ...row, id: "one" });
      await expectPgError(
        db.insert(accessRequests).values({ ...row, id: "two" }),
        PgErrorCode.uniqueViolation,
      );
      await expectPgError(
        db
          .insert(accessRequests)
          .values({ ...row, serviceName: "mail", id: "three", status: "bogus" as never }),
        PgErrorCode.checkViolation,
      );
    });

    it("records a grant with its actor and returns the secret's name", async () => {
      const secret = await newSecret("GRANTED");
      const request = await requestsDal.insertPending({ secretId: secret.id, serviceName: "api" });
      const granted = await requestsDal.decide(request.id, "granted", "alice");
      expect(granted).toMatchObject({
        id: request.id,
        status: "granted",
        grantedBy: "alice",
        secretName: "GRANTED",
      });
      expect(granted?.grantedAt).toBeInstanceOf(Date);
      const denied = await requestsDal.decide(request.id, "denied", "bob");
      expect(denied).toMatchObject({ status: "denied", secretName: "GRANTED" });
      expect(await requestsDal.decide("missing", "granted", "alice")).toBeUndefined();
    });

    it("lists newest first in pages with the secret's name, optionally by status", async () => {
      const ids: string[] = [];
      for (const name of ["ONE", "TWO", "THREE", "FOUR"]) {
        const secret = await newSecret(name);
        ids.push((await requestsDal.insertPending({ secretId: secret.id, serviceName: "api" })).id);
      }
      const { items, pages } = await collect((cursor) => requestsDal.list({ limit: 3, cursor }));
      expect(pages).toBe(2);
      expect(items.map((item) => item.secretName)).toEqual(["FOUR", "THREE", "TWO", "ONE"]);
      await requestsDal.decide(ids[1] ?? "", "granted", "alice");
      const granted = await requestsDal.list({ status: "granted", limit: 10 });
      expect(granted.items.map((item) => item.secretName)).toEqual(["TWO"]);
      const pending = await collect((cursor) => requestsDal.list({ status: "pending", limit: 1, cursor }));
      expect(pending.items.map((item) => item.secretName)).toEqual(["FOUR", "THREE", "ONE"]);
    });

    it("adds batched usage and stores the requested description", async () => {
      const secret = await newSecret("USED");
      const request = await requestsDal.insertPending({ secretId: secret.id, serviceName: "api" });
      const at = new Date("2030-03-01T12:00:00.456Z");
      await requestsDal.recordUsage([
        { id: request.id, count: 2, lastAccessedAt: new Date("2030-01-01T00:00:00.000Z") },
        { id: request.id, count: 5, lastAccessedAt: at },
      ]);
      expect(await requestsDal.setRequestedDescription(request.id, "from the schema")).toBe(true);
      expect(await requestsDal.setRequestedDescription("missing", "x")).toBe(false);
      expect(await requestsDal.findById(request.id)).toMatchObject({
        accessCount: 7,
        lastAccessedAt: at,
        requestedDescription: "from the schema",
      });
    });
  });
});
