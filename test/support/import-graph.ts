/**
 * The static import graph of the workspace's TypeScript, for tests that check which code may reach what.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every `.ts`/`.vue` source file under `dir`, tests included, generated and installed code excluded. */
export function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name === "dist") return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|vue)$/.test(name) ? [path] : [];
  });
}

/**
 * The module specifiers `file` imports: those that load at run time (Bun's scanner drops type-only
 * imports), or with `types` the type-only ones as well.
 */
function importsOf(file: string, types: boolean): string[] {
  // A `#!` line (an executable script) is not TypeScript; the transpiler would refuse it.
  let code = readFileSync(file, "utf8").replace(/^#!.*\n/, "");
  if (file.endsWith(".vue"))
    code = [...code.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join("\n");
  if (types) return ts.preProcessFile(code, true, true).importedFiles.map((entry) => entry.fileName);
  return transpiler.scanImports(code).map((entry) => entry.path);
}

/** Each import of `file` with the path it resolves to; built-ins and what does not resolve are left out. */
export function resolvedImports(
  file: string,
  options: { types?: boolean } = {},
): { specifier: string; path: string }[] {
  return importsOf(file, options.types ?? false).flatMap((specifier) => {
    if (specifier.startsWith("node:") || specifier.startsWith("bun")) return [];
    try {
      return [{ specifier, path: Bun.resolveSync(specifier, dirname(file)) }];
    } catch {
      return []; // type-only or optional imports that do not resolve from here
    }
  });
}

export interface Reach {
  /** Files of the repository reached, relative to its root. */
  files: Set<string>;
  /** Bare package names reached from repository files (first path segment, or scope/name). */
  packages: Set<string>;
  /** For each reached file or package, one file that imports it: to explain a path. */
  via: Map<string, string>;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Follows imports from `entries` through the repository (workspace packages included). */
export function reachableFrom(entries: string[]): Reach {
  const reach: Reach = { files: new Set(), packages: new Set(), via: new Map() };
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const rel = relative(repoRoot, file);
    if (reach.files.has(rel)) continue;
    reach.files.add(rel);
    for (const { specifier, path: resolved } of resolvedImports(file)) {
      const inRepo = !resolved.includes("/node_modules/") && resolved.startsWith(repoRoot);
      if (inRepo) {
        if (!reach.via.has(relative(repoRoot, resolved))) reach.via.set(relative(repoRoot, resolved), rel);
        queue.push(resolved);
      } else if (!specifier.startsWith(".")) {
        const name = packageName(specifier);
        reach.packages.add(name);
        if (!reach.via.has(name)) reach.via.set(name, rel);
      }
    }
  }
  return reach;
}

/** The chain of importers from an entry to `target`, for a readable failure. */
export function explain(reach: Reach, target: string): string {
  const chain = [target];
  let current = reach.via.get(target);
  while (current && chain.length < 20) {
    chain.push(current);
    current = reach.via.get(current);
  }
  return chain.reverse().join(" → ");
}
