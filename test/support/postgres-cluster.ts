/**
 * A throwaway PostgreSQL cluster of its own (initdb + pg_ctl in a temporary directory, on a free port), for
 * tests that stop, crash or restart the server. The machine's shared PostgreSQL is never touched: other
 * suites use it at the same time.
 *
 * @example
 * const cluster = await startPostgresCluster();
 * afterAll(() => cluster.dispose());
 * const url = await cluster.createDatabase("vault");
 * await cluster.restart({ mode: "immediate" }); // a crash: no checkpoint, recovery from the WAL
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./nats-server.ts";

export interface PostgresCluster {
  /** The cluster's `postgres` database (user postgres, trust authentication). */
  url: string;
  port: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Stops the server: `fast` disconnects clients and checkpoints; `immediate` is a crash (the next start
   * recovers from the WAL).
   */
  stop(options?: { mode?: "fast" | "immediate" }): Promise<void>;
  start(): Promise<void>;
  /** `stop` then `start` after `downMs`. */
  restart(options?: { mode?: "fast" | "immediate"; downMs?: number }): Promise<void>;
  /** What the server has logged so far. */
  log(): string;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: PG_BIN_DIR, else the newest /usr/lib/postgresql/<n>/bin. */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/<version>/bin: " +
        "install them (apt-get install -y postgresql) or set PG_BIN_DIR",
    );
  }
  return join(root, newest, "bin");
}

/** initdb refuses to run as root: run the server binaries as the `postgres` OS user then. */
function asServerUser(command: string[]): string[] {
  if (process.getuid?.() !== 0) return command;
  return ["runuser", "-u", "postgres", "--", ...command];
}

function postgresUserIds(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      "Running as root needs a `postgres` OS user to run the test cluster (initdb refuses root)",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command: string[], what: string): void {
  const result = Bun.spawnSync(asServerUser(command), { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${result.exitCode}): ${result.stderr.toString()}${result.stdout}`);
  }
}

async function waitUntilAccepting(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the test cluster did not accept connections: ${error}`);
      await Bun.sleep(100);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = binDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "secrets-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresUserIds();
    chownSync(dir, uid, gid);
  }
  run(
    [join(bin, "initdb"), "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
    "initdb",
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100`;

  const start = async () => {
    run(
      [join(bin, "pg_ctl"), "-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "start"],
      "pg_ctl start",
    );
    await waitUntilAccepting(url, 20_000);
  };
  const stop = async (options: { mode?: "fast" | "immediate" } = {}) => {
    run([join(bin, "pg_ctl"), "-D", dataDir, "-m", options.mode ?? "fast", "-w", "stop"], "pg_ctl stop");
  };
  const running = () => existsSync(join(dataDir, "postmaster.pid"));

  await start();
  return {
    url,
    port,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Invalid database name "${name}"`);
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`create database "${name}"`);
      } finally {
        await sql.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop,
    start,
    async restart(options = {}) {
      await stop(options);
      if (options.downMs) await Bun.sleep(options.downMs);
      await start();
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async dispose() {
      if (running()) await stop({ mode: "immediate" }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
