/**
 * Generates TypeScript from proto/ with buf and ts-proto.
 *
 *   bun scripts/gen-proto.ts           regenerate proto/gen/
 *   bun scripts/gen-proto.ts --check   regenerate into a temporary folder and fail on any difference
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const protoDir = join(import.meta.dir, "..", "proto");
const buf = join(import.meta.dir, "..", "node_modules", ".bin", "buf");

function run(args: string[]): void {
  const result = Bun.spawnSync([buf, ...args], { cwd: protoDir, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) {
    console.error(`buf ${args.join(" ")} failed with exit code ${result.exitCode}`);
    process.exit(1);
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

function drift(expectedDir: string, actualDir: string): string[] {
  const expected = new Map(listFiles(expectedDir).map((p) => [relative(expectedDir, p), p]));
  const actual = new Map(listFiles(actualDir).map((p) => [relative(actualDir, p), p]));
  const problems: string[] = [];
  for (const [name, path] of expected) {
    const committed = actual.get(name);
    if (!committed) problems.push(`missing: proto/gen/${name}`);
    else if (readFileSync(committed, "utf8") !== readFileSync(path, "utf8"))
      problems.push(`differs: proto/gen/${name}`);
  }
  for (const name of actual.keys())
    if (!expected.has(name)) problems.push(`not generated: proto/gen/${name}`);
  return problems;
}

run(["lint"]);
if (process.argv.includes("--check")) {
  const scratch = mkdtempSync(join(tmpdir(), "secrets-gen-"));
  try {
    run(["generate", "--output", scratch]);
    const problems = drift(join(scratch, "gen"), join(protoDir, "gen"));
    if (problems.length > 0) {
      console.error(`Generated code is out of date; run \`bun run gen\`:\n  ${problems.join("\n  ")}`);
      process.exit(1);
    }
    console.log("proto/gen is up to date");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  rmSync(join(protoDir, "gen"), { recursive: true, force: true });
  run(["generate"]);
  console.log("regenerated proto/gen");
}
