/**
 * Throwaway PostgreSQL databases for tests: each suite gets its own, dropped afterwards.
 *
 * @example
 * const database = await createTestDatabase();
 * afterAll(() => database.drop());
 * const { db } = await openDatabase({ databaseUrl: database.url, dataDir });
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

const adminUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const startHint =
  "Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
  "(or point TEST_POSTGRES_URL at a server where the user may create databases).";

/** Creates `<prefix>_<random hex>`; `prefix` must be a plain lower-case identifier. */
export async function createTestDatabase(prefix = "secrets_test"): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`Invalid database name prefix "${prefix}"`);
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin(async (sql) => {
    await sql.unsafe(`create database "${name}"`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(async (sql) => {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      }),
  };
}

async function withAdmin(work: (sql: postgres.Sql) => Promise<void>): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`.catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      const server = new URL(adminUrl).host;
      throw new Error(`PostgreSQL is not reachable at ${server} (${reason}). ${startHint}`, { cause: error });
    });
    await work(sql);
  } finally {
    await sql.end();
  }
}
