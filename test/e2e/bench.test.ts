/**
 * `bun run bench` works from a clean clone: the harness runs end to end in its quick mode (tiny counts
 * and durations; the figures mean nothing) with two gateways, and writes well-formed results.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderMarkdown } from "../../bench/markdown.ts";
import { checkResults } from "../../bench/results.ts";
import type { BenchResults } from "../../bench/run.ts";
import { repoRoot } from "../support/processes.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-quick-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bun run bench --quick", () => {
  it("starts the stack, measures every figure against its baseline, and writes the results", {
    timeout: 90_000,
  }, async () => {
    const out = join(dir, "results.json");
    const child = Bun.spawn(["bun", "run", "bench", "--quick", "--gateways", "2", "--out", out], {
      cwd: repoRoot,
      env: { ...process.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const results = JSON.parse(readFileSync(out, "utf8")) as BenchResults;
    expect(checkResults(results)).toEqual([]);
    expect(results).toMatchObject({ quick: true, gateways: 2 });
    expect(results.audit.stored).toBeGreaterThanOrEqual(results.audit.expectedAtLeast);
    // The table a reader sees, with every target named.
    expect(stdout).toContain("| Figure | Value | Baseline | Baseline value | Ratio |");
    for (const target of results.targets) expect(stdout).toContain(target.target);
    // What `bun bench/markdown.ts` prints for the README.
    expect(renderMarkdown(results)).toContain("| CPU per call at c=64 (ms) | GetSecret | Echo (A) |");
  });

  it("explains its options and refuses unknown ones", async () => {
    const help = Bun.spawnSync(["bun", "bench/run.ts", "--gateways", "0"], { cwd: repoRoot });
    expect(help.exitCode).toBe(2);
    expect(help.stderr.toString()).toContain("--gateways must be an integer from 1 to 16");
    expect(help.stderr.toString()).toContain("Usage: bun run bench");
  });
});
