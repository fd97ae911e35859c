/** `generate`, `combine` and `check`: the schema commands, over a package folder. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CliError } from "./cli-error.ts";
import { combineSchemas, renderCombinedSchema } from "./combine.ts";
import { generatedFrom, renderSecretsModule } from "./generate.ts";
import { type CliIo, displayPath } from "./io.ts";
import {
  combinedFileName,
  type FileProblem,
  formatProblem,
  generatedFileName,
  loadPackageSchemas,
  loadSchemaFile,
  type SchemaFile,
  schemaFileName,
} from "./schema-files.ts";
import { packageWithDependencies, readManifest } from "./workspace.ts";

function failWith(io: CliIo, problems: FileProblem[], what: string): never {
  for (const problem of problems) io.stderr(formatProblem(problem, (path) => displayPath(io, path)));
  throw new CliError(`${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
}

/** The schema file `generate` reads: the package's own, or its combined one. */
function generateSource(dir: string, combined: boolean): SchemaFile {
  const fileName = combined ? combinedFileName : schemaFileName;
  const file = join(dir, fileName);
  const loaded = loadSchemaFile(file, readManifest(dir).name ?? dir);
  if (!loaded) {
    throw new CliError(
      combined
        ? `${file}: not found; run \`secrets combine\` first`
        : `${file}: not found; declare the package's secrets in it`,
    );
  }
  return loaded;
}

export function runGenerate(io: CliIo, dirArgument: string | undefined, combined: boolean): void {
  const dir = resolve(io.cwd, dirArgument ?? ".");
  const source = generateSource(dir, combined);
  if (source.problems.length > 0) failWith(io, source.problems, "secrets generate");
  const target = join(dir, generatedFileName);
  if (existsSync(target) && generatedFrom(readFileSync(target, "utf8")) === undefined) {
    throw new CliError(
      `${displayPath(io, target)} exists and was not written by \`secrets generate\`; move it away first`,
    );
  }
  const fileName = combined ? combinedFileName : schemaFileName;
  writeFileSync(target, renderSecretsModule(source.entries, fileName));
  io.stdout(`wrote ${displayPath(io, target)}: ${source.entries.length} secrets from ${fileName}`);
}

/** The package's and its dependencies' schemas, combined; throws on any problem. */
function combinedOf(io: CliIo, dir: string, command: string) {
  const schemas = loadPackageSchemas(packageWithDependencies(dir));
  const problems = schemas.flatMap((schema) => schema.problems);
  if (problems.length > 0) failWith(io, problems, command);
  const { keys, conflicts } = combineSchemas(schemas);
  if (conflicts.length > 0) failWith(io, conflicts, command);
  return {
    schemas,
    keys,
    text: renderCombinedSchema(
      keys,
      schemas.map((s) => s.packageName),
    ),
  };
}

export function runCombine(io: CliIo, dirArgument: string | undefined): void {
  const dir = resolve(io.cwd, dirArgument ?? ".");
  const { schemas, keys, text } = combinedOf(io, dir, "secrets combine");
  const target = join(dir, combinedFileName);
  writeFileSync(target, text);
  io.stdout(`wrote ${displayPath(io, target)}: ${keys.length} secrets from ${schemas.length} schemas`);
  for (const schema of schemas)
    io.stdout(`  ${schema.packageName}: ${schema.entries.length} (${displayPath(io, schema.file)})`);
}

/**
 * Validates the package's schema and its workspace dependencies', reports key conflicts, and flags a
 * combined schema or generated module that no longer matches its sources.
 */
export function runCheck(io: CliIo, dirArgument: string | undefined): void {
  const dir = resolve(io.cwd, dirArgument ?? ".");
  const packages = packageWithDependencies(dir);
  const schemas = loadPackageSchemas(packages);
  const problems: FileProblem[] = schemas.flatMap((schema) => schema.problems);
  if (schemas.length === 0) {
    problems.push({
      file: join(dir, schemaFileName),
      key: "",
      problem: "not found (and no workspace dependency has one)",
    });
  }
  const { keys, conflicts } = combineSchemas(schemas);
  problems.push(...conflicts);

  const combinedFile = join(dir, combinedFileName);
  const combined = loadSchemaFile(combinedFile, packages[0]?.name ?? dir);
  if (combined) problems.push(...combined.problems);
  const sourcesValid = problems.length === 0;
  if (
    combined &&
    sourcesValid &&
    readFileSync(combinedFile, "utf8") !==
      renderCombinedSchema(
        keys,
        schemas.map((s) => s.packageName),
      )
  ) {
    problems.push({
      file: combinedFile,
      key: "",
      problem: "out of date with the schemas it combines: run `secrets combine`",
    });
  }

  const generatedFile = join(dir, generatedFileName);
  const generatedText = existsSync(generatedFile) ? readFileSync(generatedFile, "utf8") : "";
  const from = generatedFrom(generatedText);
  if (from !== undefined && sourcesValid) {
    const source = loadSchemaFile(join(dir, from), packages[0]?.name ?? dir);
    const flag = from === combinedFileName ? " --combined" : "";
    if (!source)
      problems.push({ file: generatedFile, key: "", problem: `generated from ${from}, which is gone` });
    else if (source.problems.length === 0 && renderSecretsModule(source.entries, from) !== generatedText) {
      problems.push({
        file: generatedFile,
        key: "",
        problem: `out of date with ${from}: run \`secrets generate${flag}\``,
      });
    }
  }
  if (problems.length > 0) failWith(io, problems, "secrets check");
  io.stdout(`ok: ${schemas.length} schema${schemas.length === 1 ? "" : "s"}, ${keys.length} secrets`);
}
