/**
 * Opens the vault's database, PostgreSQL or embedded PGlite, and brings its schema up to date.
 *
 * Both drivers give a `Database`, so the data-access code is written once against it.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { backoffBound } from "@secrets/validation";
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
  /**
   * Set: a PostgreSQL server that cannot be reached yet (refused, unknown host, starting up) is waited
   * for, and this is told of each failed attempt; unset: the first failure is thrown. Errors that waiting
   * cannot cure (a wrong password, a missing database) are always thrown.
   */
  onUnreachable?: (error: unknown, attempt: number) => void;
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
const reconnectBackoffSeconds = (attempt: number) =>
  backoffBound(attempt, { initialDelayMs: 50, maxDelayMs: 500 }) / 1000;

/**
 * Seconds a new connection may take to be ready. postgres.js waits 30 s by default, so a connection caught
 * by a restart (its server gone or not answering yet) held its place in the pool, and the requests queued
 * on it, for half a minute; 5 s bounds that while leaving a loaded server time to answer.
 */
const connectTimeoutSeconds = 5;

/**
 * Opens the database and applies pending migrations.
 *
 * @example
 * const { db, close } = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.maxConnections ?? 10, options.onUnreachable)
    : openPglite(options.dataDir);
}

/** Error codes of a server that is not there yet, or not accepting connections yet. */
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P03", // cannot_connect_now: the server is starting up or shutting down
]);

export function isUnreachable(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return typeof code === "string" && unreachableCodes.has(code);
}

/** Pause before attempt `attempt + 1` to reach a server that is not up yet: 0.25 s doubling to 5 s. */
const startupRetrySeconds = (attempt: number) => Math.min(0.25 * 2 ** attempt, 5);

async function openPostgres(
  url: string,
  maxConnections: number,
  onUnreachable: OpenDatabaseOptions["onUnreachable"],
): Promise<OpenedDatabase> {
  for (let attempt = 0; ; attempt++) {
    try {
      await migratePostgresLocked(url);
      break;
    } catch (error) {
      if (!onUnreachable || !isUnreachable(error)) throw error;
      onUnreachable(error, attempt);
      await Bun.sleep(startupRetrySeconds(attempt) * 1000);
    }
  }
  const client = postgres(url, {
    max: maxConnections,
    onnotice: ignoreNotice,
    backoff: reconnectBackoffSeconds,
    connect_timeout: connectTimeoutSeconds,
  });
  const db = drizzlePostgres({ client, schema });
  return { db, kind: "postgres", close: () => client.end() };
}

/**
 * Migrates on one dedicated connection that holds an advisory lock, so vault replicas starting together
 * apply the migrations once instead of racing on the migrations table.
 */
async function migratePostgresLocked(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: ignoreNotice, connect_timeout: connectTimeoutSeconds });
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
