/**
 * Key rotation and the rewrap against real PostgreSQL: every value stays readable, every row ends on the
 * current key, a previous key leaves the key file only once nothing uses it, and with two vaults only one
 * rotates.
 */
import { createSecretKey, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, Reason } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { createTestDatabase } from "@secrets/test/support/postgres";
import { eq, ne, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Admin } from "../admin/admin-context.ts";
import { type OpenedDatabase, openDatabase } from "../db/connection.ts";
import { secrets, secretVersions } from "../db/schema.ts";
import { seal } from "../keyring/envelope.ts";
import { type Keyring, keyFileName, loadOrCreateKeyring } from "../keyring/index.ts";
import { createKeyRotation, type KeyRotationOptions, keyFileLock } from "./key-rotation.ts";
import { seedSecrets } from "./seed-secrets.ts";

const admin: Admin = { actor: "alice", requestId: "r", ipAddress: "", userAgent: "" };
const audited: string[] = [];
const audit = {
  change: async <T>(facts: { event: string }, work: () => Promise<{ result: T }>) => {
    audited.push(facts.event);
    return (await work()).result;
  },
};

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let opened: OpenedDatabase;
let dataDir: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  opened = await openDatabase({ databaseUrl: testDb.url, dataDir: tmpdir(), maxConnections: 10 });
});
afterAll(async () => {
  await opened?.close();
  await testDb?.drop();
});
beforeEach(async () => {
  await opened.db.delete(secrets);
  dataDir = mkdtempSync(join(tmpdir(), "rotation-"));
  return () => rmSync(dataDir, { recursive: true, force: true });
});

function rotation(keyring: Keyring, options: Partial<KeyRotationOptions> = {}) {
  return createKeyRotation({
    db: opened.db,
    keyring,
    audit: audit as never,
    logger: silentLogger,
    options: {
      rotationIntervalMs: 86_400_000,
      checkIntervalMs: 50,
      batchSize: 37,
      retireGraceMs: 0,
      ...options,
    },
  });
}

async function readAll(keyring: Keyring, seeded: { id: string; value: string }[]) {
  const rows = await opened.db.select().from(secrets);
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const { id, value } of seeded) {
    const row = byId.get(id);
    expect(
      new TextDecoder().decode(
        keyring.decrypt(row?.valueEncrypted ?? new Uint8Array(), {
          secretId: id,
          version: row?.version ?? 0,
        }),
      ),
    ).toBe(value);
  }
}

describe("key rotation", () => {
  it("moves every current value and kept version to the new key, then retires the old one", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const oldKey = keyring.activeKeyId;
    const seeded = await seedSecrets(opened.db, keyring, {
      count: 300,
      prefix: "ROT",
      valueOf: (i) => `v${i}`,
    });
    const keys = rotation(keyring);
    const { rotated } = await keys.rotate(admin);
    expect(rotated).toBe(true);
    expect(keyring.activeKeyId).not.toBe(oldKey);
    expect(await keys.pending()).toBe(600);
    await readAll(keyring, seeded);
    await keys.runOnce();
    expect(await keys.pending()).toBe(0);
    const onOther = await opened.db.select().from(secrets).where(ne(secrets.keyId, keyring.activeKeyId));
    expect(onOther).toEqual([]);
    const versionsOnOther = await opened.db
      .select()
      .from(secretVersions)
      .where(ne(secretVersions.keyId, keyring.activeKeyId));
    expect(versionsOnOther).toEqual([]);
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId]);
    await readAll(keyring, seeded);
    expect(audited).toContain("key.rotate");
  });

  it("refuses a second rotation while the rewrap of the first is pending, and rotates again once it is done", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const seeded = await seedSecrets(opened.db, keyring, {
      count: 200,
      prefix: "TWICE",
      valueOf: (i) => `t${i}`,
    });
    const keys = rotation(keyring);
    await keys.rotate(admin);
    await keys.rewrapBatch();
    const attempts = await Promise.allSettled(Array.from({ length: 30 }, () => keys.rotate(admin)));
    for (const attempt of attempts) {
      expect(attempt.status).toBe("rejected");
      expect((attempt as PromiseRejectedResult).reason).toMatchObject({
        name: "BusError",
        code: ErrorCode.FAILED_PRECONDITION,
        reason: Reason.ROTATION_IN_PROGRESS,
      });
    }
    expect((attempts[0] as PromiseRejectedResult).reason.message).toMatch(
      /A key rotation is in progress: (\d+ values are still being re-encrypted|another vault is rotating)/,
    );
    expect(keyring.keyIds()).toHaveLength(2);
    await readAll(keyring, seeded);
    await keys.runOnce();
    expect(await keys.pending()).toBe(0);
    expect((await keys.rotate(admin)).rotated).toBe(true);
    await keys.runOnce();
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId]);
    await readAll(keyring, seeded);
  });

  it("keeps a previous key through its grace period even when no row uses it", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    await seedSecrets(opened.db, keyring, { count: 10, prefix: "GRACE", valueOf: (i) => `g${i}` });
    const keys = rotation(keyring, { retireGraceMs: 60_000 });
    await keys.rotate(admin);
    await keys.runOnce();
    expect(await keys.pending()).toBe(0);
    expect(keyring.keyIds()).toHaveLength(2);
  });

  it("rotates by itself when the key is older than the interval", async () => {
    let clock = Date.now();
    const keyring = await loadOrCreateKeyring({ dataDir, now: () => clock });
    const first = keyring.activeKeyId;
    const keys = rotation(keyring, { rotationIntervalMs: 1_000, now: () => clock });
    await keys.runOnce();
    expect(keyring.activeKeyId).toBe(first);
    clock += 1_001;
    await keys.runOnce();
    expect(keyring.activeKeyId).not.toBe(first);
  });

  it("lets one of two vaults rotate, and the other pick the new key up", async () => {
    let clock = Date.now();
    const a = await loadOrCreateKeyring({ dataDir, now: () => clock });
    const b = await loadOrCreateKeyring({ dataDir, now: () => clock });
    const seeded = await seedSecrets(opened.db, a, { count: 100, prefix: "PAIR", valueOf: (i) => `p${i}` });
    clock += 2_000;
    const options = { rotationIntervalMs: 1_000, now: () => clock };
    const [first, second] = [rotation(a, options), rotation(b, options)];
    await Promise.all([first.runOnce(), second.runOnce()]);
    // Whichever vault finished the rewrap retired the old key; both read the shared file again.
    await Promise.all([first.runOnce(), second.runOnce()]);
    await a.refresh();
    await b.refresh();
    expect(a.keyIds()).toHaveLength(1);
    expect(b.activeKeyId).toBe(a.activeKeyId);
    const rows = await opened.db
      .select({ keyId: secrets.keyId })
      .from(secrets)
      .where(eq(secrets.keyId, a.activeKeyId));
    expect(rows).toHaveLength(100);
    await readAll(b, seeded);
  });

  it("retires no key while another vault holds the key-file lock (the rotation's)", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const keys = rotation(keyring);
    await keys.rotate(admin);
    expect(keyring.keyIds()).toHaveLength(2);
    // Another vault in the middle of a rotation: it holds the lock in its own session.
    const holder = await opened.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${keyFileLock})`);
      return keys.retireUnused();
    });
    expect(holder).toBe(0);
    expect(keyring.keyIds()).toHaveLength(2);
    expect(await keys.retireUnused()).toBe(1);
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId]);
  });

  it("waits for a key-file lock held briefly (a key-file write, a check), then rotates for the admin", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const keys = rotation(keyring);
    const before = keyring.activeKeyId;
    let held: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = opened.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${keyFileLock})`);
      await released;
    });
    await Bun.sleep(50);
    const pendingRotation = keys.rotate(admin);
    setTimeout(held, 300);
    await expect(pendingRotation).resolves.toMatchObject({ rotated: true });
    await holder;
    expect(keyring.activeKeyId).not.toBe(before);
  });

  it("after an upgrade, rotates at once and moves every legacy envelope to one that binds the version", async () => {
    const material = randomBytes(32);
    const file = {
      formatVersion: 1,
      keys: [{ id: 77, key: material.toString("base64"), createdAt: Date.now() }],
      lastUpdated: 1,
    };
    await writeFile(join(dataDir, keyFileName), JSON.stringify(file), { mode: 0o600 });
    const legacyKey = createSecretKey(material);
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: Bun.randomUUIDv7(), value: `legacy-${i}` }));
    for (const { id, value } of rows) {
      const valueEncrypted = seal(
        legacyKey,
        77,
        new TextEncoder().encode(value),
        { secretId: id, version: 1 },
        1,
      );
      await opened.db
        .insert(secrets)
        .values({ id, name: `LEGACY_${value}`, createdBy: "t", valueEncrypted, keyId: 77, version: 1 });
      await opened.db
        .insert(secretVersions)
        .values({ secretId: id, version: 1, valueEncrypted, keyId: 77, createdBy: "t" });
    }
    const keyring = await loadOrCreateKeyring({ dataDir });
    expect(keyring.currentKeyIsLegacy).toBe(true);
    // The interval is a day, but a legacy current key is due at once.
    await rotation(keyring).runOnce();
    expect(keyring.currentKeyIsLegacy).toBe(false);
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId]);
    const current = await opened.db.select().from(secrets);
    const kept = await opened.db.select().from(secretVersions);
    for (const row of [...current.map((r) => ({ ...r, secretId: r.id })), ...kept]) {
      const envelope = row.valueEncrypted ?? new Uint8Array();
      expect(keyring.formatOf(envelope)).toBe(2);
      expect(new TextDecoder().decode(keyring.decrypt(envelope, row))).toMatch(/^legacy-\d+$/);
    }
    await readAll(keyring, rows);
  });
});
