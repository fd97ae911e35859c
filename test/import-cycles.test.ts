import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, resolvedImports, sourceFiles } from "./support/import-graph.ts";

const roots = ["packages", "services", "proto", "bench", "examples", "scripts", "test", "web/src"];

/** Each file (relative to the repository root) and the repository files it imports. */
type ImportGraph = Map<string, string[]>;

const isOwnSource = (path: string) =>
  path.startsWith(`${repoRoot}/`) && !path.includes("/node_modules/") && !path.includes("/proto/gen/");

function importGraph(files: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets = new Set<string>();
    for (const { path } of resolvedImports(file, { types: true }))
      if (isOwnSource(path)) targets.add(relative(repoRoot, path));
    graph.set(relative(repoRoot, file), [...targets].sort());
  }
  return graph;
}

/**
 * One cycle per strongly connected component of more than one file (or a file importing itself), as the
 * path `a → b → … → a`, found with Tarjan's algorithm.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;

  function connect(node: string): void {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfImport = (graph.get(node) ?? []).includes(node);
    if (component.length > 1 || selfImport) components.push(component.sort());
  }

  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** A shortest cycle from the component's first file back to it, staying inside the component. */
function cycleThrough(graph: ImportGraph, component: ReadonlySet<string>): string[] {
  const start = [...component][0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of graph.get(node) ?? []) {
      if (!component.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at))
          path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

describe("import cycles", () => {
  it("the workspace's source files import one another without a cycle", () => {
    const files = roots.flatMap((root) => sourceFiles(join(repoRoot, root)));
    const cycles = importCycles(importGraph(files));
    expect(cycles.map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("finds a cycle, and only the cycle (the check can fail)", () => {
    const graph: ImportGraph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts", "d.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
    ]);
    expect(importCycles(graph)).toEqual([
      ["a.ts", "b.ts", "c.ts", "a.ts"],
      ["e.ts", "e.ts"],
    ]);
  });

  it("resolves relative and workspace package imports to files, type-only ones included", () => {
    const file = join(repoRoot, "services/vault/src/secrets/watch-service.ts");
    const targets = importGraph([file]).get("services/vault/src/secrets/watch-service.ts") ?? [];
    expect(targets).toContain("services/vault/src/service-tokens/token-authenticator.ts");
    expect(targets).toContain("packages/validation/src/index.ts");
    expect(targets.some((target) => target.startsWith("proto/gen/"))).toBe(false);
  });
});
