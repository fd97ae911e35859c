/**
 * A package's workspace dependencies: `dependencies`/`devDependencies` with `workspace:` versions,
 * resolved by name through the root `package.json` `workspaces` globs, followed recursively.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CliError } from "./cli-error.ts";

export interface PackageManifest {
  name?: string;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  name: string;
  dir: string;
}

export function readManifest(dir: string): PackageManifest {
  const file = join(dir, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CliError(`${file}: not found (run the command in a package, or pass its folder)`);
  }
  try {
    return JSON.parse(text) as PackageManifest;
  } catch (error) {
    throw new CliError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The nearest folder above `dir` (or `dir` itself) whose package.json declares `workspaces`. */
export function findWorkspaceRoot(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const file = join(current, "package.json");
    if (existsSync(file) && readManifest(current).workspaces !== undefined) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Every workspace package under `root`, by name. */
export function listWorkspacePackages(root: string): Map<string, string> {
  const manifest = readManifest(root);
  const patterns = Array.isArray(manifest.workspaces)
    ? manifest.workspaces
    : (manifest.workspaces?.packages ?? []);
  const excluded = patterns
    .filter((p) => p.startsWith("!"))
    .map((p) => new Bun.Glob(p.slice(1).replace(/\/$/, "")));
  const packages = new Map<string, string>();
  for (const pattern of patterns.filter((p) => !p.startsWith("!"))) {
    const glob = new Bun.Glob(`${pattern.replace(/\/$/, "")}/package.json`);
    const files = [...glob.scanSync({ cwd: root, onlyFiles: true })].sort();
    for (const file of files) {
      const dir = dirname(file);
      if (dir.split("/").includes("node_modules") || excluded.some((e) => e.match(dir))) continue;
      const name = readManifest(join(root, dir)).name;
      if (name && !packages.has(name)) packages.set(name, join(root, dir));
    }
  }
  return packages;
}

/** The names of a manifest's `workspace:` dependencies, sorted. */
export function workspaceDependencyNames(manifest: PackageManifest): string[] {
  const names = new Set<string>();
  for (const deps of [manifest.dependencies, manifest.devDependencies]) {
    for (const [name, version] of Object.entries(deps ?? {})) {
      if (typeof version === "string" && version.startsWith("workspace:")) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * The package at `dir` followed by its workspace dependencies, recursively, each once, depth-first in
 * name order (deterministic). Throws when a `workspace:` dependency is not in the workspace.
 */
export function packageWithDependencies(dir: string): WorkspacePackage[] {
  const start = resolve(dir);
  const manifest = readManifest(start);
  const result: WorkspacePackage[] = [{ name: manifest.name ?? basename(start), dir: start }];
  if (workspaceDependencyNames(manifest).length === 0) return result;
  const root = findWorkspaceRoot(start);
  if (!root) {
    throw new CliError(
      `${join(start, "package.json")}: has workspace: dependencies but no workspace root was found above it`,
    );
  }
  const packages = listWorkspacePackages(root);
  const seen = new Set<string>([start]);
  const visit = (from: WorkspacePackage, names: string[]) => {
    for (const name of names) {
      const depDir = packages.get(name);
      if (!depDir) {
        throw new CliError(
          `${join(from.dir, "package.json")}: workspace dependency ${name} is not a package of the workspace at ${root}`,
        );
      }
      if (seen.has(depDir)) continue;
      seen.add(depDir);
      const dep = { name, dir: depDir };
      result.push(dep);
      visit(dep, workspaceDependencyNames(readManifest(depDir)));
    }
  };
  visit(result[0] as WorkspacePackage, workspaceDependencyNames(manifest));
  return result;
}
