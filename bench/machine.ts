/** What the figures were measured on, for the README and the JSON. */
import { cpus, release, totalmem, type } from "node:os";
import { SQL } from "bun";
import { connect } from "nats";
import type { Machine } from "./results.ts";

export async function describeMachine(natsUrl: string, databaseUrl: string): Promise<Machine> {
  const processors = cpus();
  let natsServer = "unknown";
  try {
    const nc = await connect({ servers: natsUrl });
    natsServer = nc.info?.version ?? "unknown";
    await nc.close();
  } catch {
    // Reported as unknown.
  }
  let postgres = "PostgreSQL (unknown version)";
  const sql = new SQL(databaseUrl, { max: 1 });
  try {
    const [row] = (await sql`show server_version`) as { server_version: string }[];
    if (row) postgres = `PostgreSQL ${row.server_version.split(" ")[0]}`;
  } catch {
    // Reported as unknown.
  } finally {
    await sql.close();
  }
  return {
    cpus: processors.length,
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    bun: Bun.version,
    natsServer,
    postgres,
  };
}
