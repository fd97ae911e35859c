/** Runs the CLI in-process against temporary copies of the fixture workspace. */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../src/cli/io.ts";
import { runCli } from "../src/cli/run.ts";

export const repoRoot = join(import.meta.dirname, "..", "..", "..");
export const fixtureWorkspace = join(repoRoot, "test", "fixtures", "sdk-workspace");

const dirs: string[] = [];

/** A fresh copy of `test/fixtures/sdk-workspace`; `removeCopies` deletes every copy. */
export function copyFixtureWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "sdk-workspace-"));
  dirs.push(dir);
  cpSync(fixtureWorkspace, dir, { recursive: true });
  return dir;
}

export function tempDir(prefix = "sdk-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeCopies(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs `secrets <argv>` in `cwd`. */
export async function cli(
  argv: string[],
  options: Partial<Pick<CliIo, "env" | "fetch">> & { cwd: string; stdin?: string },
): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    cwd: options.cwd,
    env: options.env ?? {},
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    readStdin: async () => options.stdin ?? "",
    fetch:
      options.fetch ??
      (async () => {
        throw new Error("no network in this test");
      }),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
