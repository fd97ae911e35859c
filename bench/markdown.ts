/**
 * A results file as the Markdown of the README's Performance section: the machine, the figures with
 * their baselines and ratios, the targets and where the CPU goes.
 *
 *   bun bench/markdown.ts [.artifacts/bench/results.json]
 */
import { readFileSync } from "node:fs";
import { renderCpu, renderMachine, renderRows, renderTargets } from "./report.ts";
import { type BenchResults, checkResults } from "./results.ts";

export function renderMarkdown(results: BenchResults): string {
  return [
    `Measured ${results.startedAt.slice(0, 16).replace("T", " ")} UTC in ${results.wallSeconds} s: ${renderMachine(results)}.`,
    renderRows(results.rows),
    renderTargets(results.targets),
    renderCpu(results),
  ].join("\n\n");
}

if (import.meta.main) {
  const file = process.argv[2] ?? ".artifacts/bench/results.json";
  const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  const problems = checkResults(results);
  if (problems.length > 0) console.error(`warning: ${file}: ${problems.join("; ")}`);
  console.log(renderMarkdown(results));
}
