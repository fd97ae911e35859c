/**
 * Opens the vault's database, PostgreSQL or embedded PGlite, and brings its schema up to date.
 *
 * Both drivers give a `Database`, so the data-access code is written once against it.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema.ts";

/** A drizzle database over either driver. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = "postgres" | "pglite";

export interface OpenDatabaseOptions {
  /** PostgreSQL connection URL; without one the embedded PGlite database under `dataDir` is used. */
  databaseUrl?: string | undefined;
  /** The process's data directory; PGlite keeps its files in `<dataDir>/pglite`. */
  dataDir: string;
  /** Size of the PostgreSQL connection pool; default 10. Ignored by PGlite (one connection). */
  maxConnections?: number;
}

export interface OpenedDatabase {
  db: Database;
  kind: DatabaseKind;
  /** Closes the pool or the embedded database; pending queries finish first. */
  close(): Promise<void>;
}

/**
 * The generated migrations. `import.meta.dirname` rather than Bun's `import.meta.dir`: both name this
 * module's directory under Bun, but only the former is set when vitest loads the module.
 */
export const migrationsFolder = join(import.meta.dirname, "../../drizzle");

/** Any fixed number: it only has to be the same in every vault process. */
const migrationLockId = 0x5ec7e75;

const ignoreNotice = () => {};

/**
 * Seconds to wait before reconnecting, after `attempt` failed attempts (counted across the whole pool).
 * postgres.js's default grows to 20 s, so after a database restart of a few seconds, queries queued on a
 * connection still backing off waited up to 20 s (test/hardening/faults/postgres-restart.test.ts); capped
 * at half a second, the vault serves again as soon as the database does.
 */
const reconnectBackoffSeconds = (attempt: number) => Math.min(0.05 * 2 ** attempt, 0.5);

/**
 * Opens the database and applies pending migrations.
 *
 * @example
 * const { db, close } = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.maxConnections ?? 10)
    : openPglite(options.dataDir);
}

async function openPostgres(url: string, maxConnections: number): Promise<OpenedDatabase> {
  await migratePostgresLocked(url);
  const client = postgres(url, {
    max: maxConnections,
    onnotice: ignoreNotice,
    backoff: reconnectBackoffSeconds,
  });
  const db = drizzlePostgres({ client, schema });
  return { db, kind: "postgres", close: () => client.end() };
}

/**
 * Migrates on one dedicated connection that holds an advisory lock, so vault replicas starting together
 * apply the migrations once instead of racing on the migrations table.
 */
async function migratePostgresLocked(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: ignoreNotice });
  try {
    await client`select pg_advisory_lock(${migrationLockId})`;
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder });
    await client`select pg_advisory_unlock(${migrationLockId})`;
  } finally {
    await client.end();
  }
}

async function openPglite(dataDir: string): Promise<OpenedDatabase> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const client = await PGlite.create(join(dataDir, "pglite"));
  try {
    const db = drizzlePglite({ client, schema });
    await migratePglite(db, { migrationsFolder });
    return { db, kind: "pglite", close: () => client.close() };
  } catch (error) {
    await client.close();
    throw error;
  }
}
