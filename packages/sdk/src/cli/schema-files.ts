/** Reading `secrets.schema.json` files, with every problem tied to its file and key. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type SchemaEntry, validateSchema } from "../schema.ts";
import type { WorkspacePackage } from "./workspace.ts";

export const schemaFileName = "secrets.schema.json";
export const combinedFileName = "secrets.schema.combined.json";
export const generatedFileName = "secrets.ts";

export interface FileProblem {
  file: string;
  /** Empty for a problem with the file as a whole. */
  key: string;
  problem: string;
}

export interface SchemaFile {
  file: string;
  packageName: string;
  entries: SchemaEntry[];
  problems: FileProblem[];
}

/** The schema at `file`, or undefined when there is no such file. */
export function loadSchemaFile(file: string, packageName: string): SchemaFile | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      file,
      packageName,
      entries: [],
      problems: [{ file, key: "", problem: `not valid JSON (${reason})` }],
    };
  }
  const { entries, problems } = validateSchema(json, "json");
  return { file, packageName, entries, problems: problems.map((p) => ({ file, ...p })) };
}

/** The `secrets.schema.json` of each package that has one, in the packages' order. */
export function loadPackageSchemas(packages: WorkspacePackage[]): SchemaFile[] {
  return packages.flatMap((pkg) => loadSchemaFile(join(pkg.dir, schemaFileName), pkg.name) ?? []);
}

/** `file: KEY: problem`, with `display` shortening paths. */
export function formatProblem(problem: FileProblem, display: (path: string) => string): string {
  return `${display(problem.file)}: ${problem.key ? `${problem.key}: ` : ""}${problem.problem}`;
}
