import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@secrets/test/support/postgres";
import { generateDrizzleJson, generateMigration } from "drizzle-kit/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsDal } from "../secrets/secrets-dal.ts";
import { migrationsFolder, openDatabase } from "./connection.ts";
import * as schema from "./schema.ts";

describe("migrations", () => {
  it("match the schema: run `bun run db:generate` in services/vault after changing it", async () => {
    const snapshots = (await readdir(join(migrationsFolder, "meta"))).filter((file) =>
      file.endsWith("_snapshot.json"),
    );
    const latest = snapshots.sort().at(-1);
    expect(latest, "no migration snapshot found").toBeDefined();
    const previous = JSON.parse(await readFile(join(migrationsFolder, "meta", latest ?? ""), "utf8"));
    const current = generateDrizzleJson(schema, previous.id);
    expect(await generateMigration(previous, current)).toEqual([]);
  });
});

describe("openDatabase with PGlite", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "vault-pglite-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("keeps its data under <dataDir>/pglite across restarts", async () => {
    const first = await openDatabase({ dataDir });
    expect(first.kind).toBe("pglite");
    await createSecretsDal({ db: first.db }).insert({
      id: "persisted",
      name: "PERSISTED",
      valueEncrypted: null,
      keyId: null,
      createdBy: "admin",
    });
    await first.close();
    expect(await readdir(join(dataDir, "pglite"))).not.toHaveLength(0);

    const second = await openDatabase({ dataDir });
    try {
      expect((await createSecretsDal({ db: second.db }).findByName("PERSISTED"))?.id).toBe("persisted");
    } finally {
      await second.close();
    }
  });
});

describe("openDatabase with PostgreSQL", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it("migrates once when several vault processes start together", async () => {
    const opened = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ databaseUrl: database.url, dataDir: "/nonexistent" })),
    );
    try {
      expect(opened.map((each) => each.kind)).toEqual(["postgres", "postgres", "postgres"]);
      const secretsDal = createSecretsDal({ db: opened[0]?.db ?? (undefined as never) });
      expect(await secretsDal.findByName("ANY")).toBeUndefined();
    } finally {
      await Promise.all(opened.map((each) => each.close()));
    }
  });
});
