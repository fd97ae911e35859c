/**
 * Embedded mode on a data directory that already exists and is open to everyone (0755, as an image or an
 * operator's `mkdir` leaves it, with a file and a folder from before): it tightens the directory, says so
 * in its log, and afterwards no file under it, PGlite's WAL and catalog included, carries a group or other
 * permission bit. Only the gateway's certificates are 0644 (public by design), inside a 0700 folder.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { freePort } from "../support/nats-server.ts";
import { type ServiceProcess, startService } from "../support/processes.ts";

const dataDir = join(mkdtempSync(join(tmpdir(), "data-dir-modes-")), "data");
let dev: ServiceProcess;

/** Every entry under `root` (the root included) with its permission bits; symlinks as themselves. */
function walk(root: string): { path: string; mode: number; directory: boolean }[] {
  const found: { path: string; mode: number; directory: boolean }[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path);
    found.push({ path: relative(root, path) || ".", mode: stat.mode & 0o777, directory: stat.isDirectory() });
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  visit(root);
  return found;
}

const openToOthers = (entries: ReturnType<typeof walk>) =>
  entries
    .filter((e) => (e.mode & 0o077) !== 0 && !/^tls\/[^/]+\.crt$/.test(e.path))
    .map((e) => `${e.path} ${e.mode.toString(8)}`);

beforeAll(async () => {
  mkdirSync(join(dataDir, "leftover"), { recursive: true, mode: 0o755 });
  chmodSync(dataDir, 0o755);
  chmodSync(join(dataDir, "leftover"), 0o755);
  writeFileSync(join(dataDir, "leftover", "notes.txt"), "from before\n", { mode: 0o644 });
  chmodSync(join(dataDir, "leftover", "notes.txt"), 0o666);
  const [grpcPort, adminPort] = [await freePort(), await freePort()];
  dev = await startService("embedded", "services/embedded/src/main.ts", {
    env: { SECRETS_DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), ADMIN_PORT: String(adminPort) },
    readyLog: "secrets dev ready",
    readyTimeoutMs: 60_000,
  });
  // Write something the WAL will hold (a secret's name and description), as the finding showed.
  const adminToken = dev.lines.join("\n").match(/Admin token:\s+(ssadm_[A-Za-z0-9_-]{43})/)?.[1] ?? "";
  const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
  const put = await http.send("POST", "/secrets", {
    credential: { token: adminToken },
    body: { name: "WAL_PROBE", description: "a name other users must not read", value: "v" },
  });
  expect([200, 201]).toContain(put.status);
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(join(dataDir, ".."), { recursive: true, force: true });
});

describe("embedded mode on a data directory others can enter", () => {
  it("tightens it and says so in its log", async () => {
    const warning = await dev.waitForLog(/^the data directory was open to other users/);
    expect(warning).toMatchObject({ level: "warn", dataDir, count: 3 });
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it("leaves no file or directory under it with a group or other permission bit, while running", () => {
    const entries = walk(dataDir);
    // PGlite's cluster is there (hundreds of files), and none of it is open to others.
    expect(entries.filter((e) => e.path.startsWith("pglite/")).length).toBeGreaterThan(100);
    expect(openToOthers(entries)).toEqual([]);
    // The certificates are public by design, but nobody else can reach them.
    expect(entries.find((e) => e.path === "tls")?.mode).toBe(0o700);
  });

  it("and after it stops (checkpoint, WAL segments) too; another user cannot read the WAL", async () => {
    expect(await dev.stop()).toBe(0);
    expect(openToOthers(walk(dataDir))).toEqual([]);
    const wal = readdirSync(join(dataDir, "pglite", "pg_wal")).find((name) => /^[0-9A-F]{24}$/.test(name));
    expect(wal).toBeDefined();
    const asNobody = spawnSync(
      "su",
      ["nobody", "-s", "/bin/sh", "-c", `cat ${join(dataDir, "pglite", "pg_wal", wal ?? "")}`],
      {
        encoding: "utf8",
      },
    );
    expect(asNobody.status).not.toBe(0);
    expect(asNobody.stderr).toMatch(/Permission denied/);
  });
});
