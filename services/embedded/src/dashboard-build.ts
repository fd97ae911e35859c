/**
 * Makes sure `web/dist` holds a build of the current dashboard sources: builds it (`bun run web:build`,
 * bounded in time) when it is missing or older than any file under `web/src`, `web/index.html` or the
 * Vite configuration.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

const webDir = join(repoRoot, "web");
export const dashboardDist = join(webDir, "dist");

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), 0);
}

export function dashboardIsStale(): boolean {
  const index = join(dashboardDist, "index.html");
  if (!existsSync(index)) return true;
  const sources = ["src", "index.html", "vite.config.ts", "package.json"].map((entry) => join(webDir, entry));
  const newestSource = Math.max(...sources.filter(existsSync).map(newestMtime));
  return newestSource > statSync(index).mtimeMs;
}

/** Builds the dashboard when needed; resolves with what was done and how long it took. */
export async function ensureDashboardBuilt(
  timeoutMs = 120_000,
): Promise<{ built: boolean; durationMs: number }> {
  const started = performance.now();
  if (!dashboardIsStale()) return { built: false, durationMs: 0 };
  const child = Bun.spawn(["bun", "run", "web:build"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bun run web:build failed (exit ${code}):\n${out}\n${err}`);
  return { built: true, durationMs: Math.round(performance.now() - started) };
}
