/**
 * Two vault processes on one key directory and one database rotate, rewrap, retire and write at the same
 * time; afterwards every value either wrote is read back with the key file as it ends up. Before the
 * key-file lock covered retirement, a retirement from a stale view could drop the other's new key.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@secrets/test/support/postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type OpenedDatabase, openDatabase } from "../db/connection.ts";
import { secrets, secretVersions } from "../db/schema.ts";
import { loadOrCreateKeyring } from "../keyring/index.ts";

interface WorkerReport {
  written: { id: string; value: string }[];
  done: { rotations: number; retired: number; moved: number; refusedRotations: number };
}

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let opened: OpenedDatabase;
let dataDir: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "two-vaults-"));
  // Migrates the database and creates the key file before the two processes start.
  opened = await openDatabase({ databaseUrl: testDb.url, dataDir, maxConnections: 4 });
  await loadOrCreateKeyring({ dataDir });
});
afterAll(async () => {
  await opened?.close();
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function runWorker(prefix: string): Promise<WorkerReport> {
  const child = Bun.spawn(
    ["bun", join(import.meta.dirname, "two-vaults-worker.ts"), testDb.url, dataDir, "8000", prefix],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`worker ${prefix} exited with ${code}: ${err}`);
  return JSON.parse(out) as WorkerReport;
}

it("loses no value while two vault processes rotate, retire and write concurrently", async () => {
  const reports = await Promise.all([runWorker("a"), runWorker("b")]);
  const keyring = await loadOrCreateKeyring({ dataDir });
  const values = new Map(reports.flatMap((report) => report.written).map(({ id, value }) => [id, value]));
  const current = await opened.db.select().from(secrets);
  const kept = await opened.db.select().from(secretVersions);
  expect(current).toHaveLength(values.size);
  expect(kept).toHaveLength(values.size);
  const decoder = new TextDecoder();
  for (const row of [
    ...current.map((r) => ({ secretId: r.id, version: r.version, valueEncrypted: r.valueEncrypted })),
    ...kept,
  ]) {
    expect(row.valueEncrypted).not.toBeNull();
    const plaintext = keyring.decrypt(row.valueEncrypted ?? new Uint8Array(), row);
    expect(decoder.decode(plaintext)).toBe(values.get(row.secretId));
  }
  const done = reports.map((report) => report.done);
  // Both rotated and retired, so the two really interleaved changes to the shared key file.
  expect(done.reduce((sum, d) => sum + d.rotations, 0)).toBeGreaterThan(2);
  expect(done.reduce((sum, d) => sum + d.retired, 0)).toBeGreaterThan(0);
}, 30_000);
