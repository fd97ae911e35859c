/**
 * Where the CPU goes: the CPU time each process of the stack used while a load ran, per call. Read from
 * Linux's `/proc/<pid>/stat` (user + system), so it covers every process the same way, the shared
 * nats-server and the vault's PostgreSQL backends included.
 */
import { readdirSync, readFileSync } from "node:fs";
import { SQL } from "bun";

const ticksPerSecond = (() => {
  const result = Bun.spawnSync(["getconf", "CLK_TCK"]);
  const value = Number(result.stdout.toString().trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** CPU milliseconds a process has used so far; 0 once it is gone. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** The nats-server listening on `natsUrl`'s port, when it runs on this machine. */
export function natsServerPid(natsUrl: string): number | undefined {
  const port = new URL(natsUrl.split(",")[0] ?? "nats://127.0.0.1:4222").port || "4222";
  const servers: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("nats-server")) servers.push({ pid: Number(entry), args });
    } catch {
      // Gone meanwhile.
    }
  }
  const onPort = servers.filter(
    ({ args }) =>
      args.some((arg, i) => arg === port && ["-p", "--port"].includes(args[i - 1] ?? "")) ||
      args.some((arg) => arg.endsWith(`:${port}`)),
  );
  if (onPort.length === 1) return onPort[0]?.pid;
  return servers.length === 1 ? servers[0]?.pid : undefined;
}

/** PostgreSQL backends connected to the database at `databaseUrl` (the vault's pool), this query's excepted. */
export async function postgresBackendPids(databaseUrl: string): Promise<number[]> {
  const sql = new SQL(databaseUrl, { max: 1 });
  try {
    const rows =
      (await sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`) as {
        pid: number;
      }[];
    return rows.map((row) => Number(row.pid));
  } finally {
    await sql.close();
  }
}

export interface CpuShare {
  process: string;
  /** CPU ms per call. */
  msPerCall: number;
}

export interface CpuUse {
  process: string;
  cpuMs: number;
}

/**
 * Runs `work` and returns the CPU each named process group used meanwhile, the harness's own (which
 * hosts the Loki stand-in) and what the work reports of itself (a load generator's).
 */
export async function cpuDuring<T>(
  groups: { process: string; pids: number[] }[],
  work: () => Promise<T>,
  reported: (result: T) => CpuUse[] = () => [],
): Promise<{ result: T; use: CpuUse[] }> {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuMsOf(pid), 0);
  const before = groups.map((group) => sum(group.pids));
  const harnessBefore = process.cpuUsage();
  const result = await work();
  const harness = process.cpuUsage(harnessBefore);
  const use = groups.map((group, i) => ({
    process: group.process,
    cpuMs: sum(group.pids) - (before[i] ?? 0),
  }));
  use.push({ process: "harness (Loki stand-in)", cpuMs: (harness.user + harness.system) / 1000 });
  use.push(...reported(result));
  return { result, use };
}

/** CPU per call over several runs: each process's CPU summed, divided by every call made. */
export function perCall(runs: readonly { use: CpuUse[]; calls: number }[]): CpuShare[] {
  const calls = Math.max(
    1,
    runs.reduce((sum, run) => sum + run.calls, 0),
  );
  const totals = new Map<string, number>();
  for (const run of runs)
    for (const { process, cpuMs } of run.use) totals.set(process, (totals.get(process) ?? 0) + cpuMs);
  return [...totals].map(([process, cpuMs]) => ({
    process,
    msPerCall: Math.round((cpuMs / calls) * 1000) / 1000,
  }));
}
