/**
 * Reads a `.cpuprofile` (`bun --cpu-prof`, Chrome's format) and prints where the samples fall: self and
 * inclusive sample counts per function, with idle time left out. Counts rather than Bun's time-weighted
 * figures, because a sample taken after an idle stretch would otherwise carry that stretch's time.
 *
 *   bun bench/profile/summarize-cpuprofile.ts <file.cpuprofile> [rows] [filter]
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { repoRoot } from "../spawn.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const [file, rowsText = "30", filter = ""] = process.argv.slice(2);
if (!file) {
  console.error("Usage: bun bench/profile/summarize-cpuprofile.ts <file.cpuprofile> [rows] [filter]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const parent = new Map<number, number>();
const byId = new Map<number, ProfileNode>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const idle = new Set(["(idle)", "(program)", "(root)", "(garbage collector)"]);
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${relative(repoRoot, url.replace(/^file:\/\//, "")).replace(/^node_modules\/\.bun\/[^/]+\/node_modules\//, "")}:${lineNumber + 1}`
    : "native";
  return `${functionName || "(anonymous)"} ${where}`;
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
for (const sample of profile.samples) {
  const node = byId.get(sample);
  if (!node || idle.has(node.callFrame.functionName)) continue;
  busy += 1;
  const own = label(node);
  self.set(own, (self.get(own) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const current = byId.get(id);
    if (!current || idle.has(current.callFrame.functionName)) continue;
    const name = label(current);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
  }
}

const rows = Number(rowsText);
const pct = (count: number) => `${((count * 100) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
const table = (title: string, counts: Map<string, number>) => {
  console.log(`\n${title} (${busy} busy samples)`);
  [...counts]
    .filter(([name]) => name.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .forEach(([name, count]) => {
      console.log(`${pct(count)}  ${String(count).padStart(6)}  ${name}`);
    });
};
table("Self", self);
table("Inclusive", inclusive);
