/** What the CLI touches outside the file system, so tests run commands in-process. */
import { relative } from "node:path";

export interface CliIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Writes one line of output. */
  stdout(line: string): void;
  /** Writes one line of diagnostics. */
  stderr(line: string): void;
  readStdin(): Promise<string>;
  fetch(url: string, init: RequestInit): Promise<Response>;
}

export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    readStdin: () => new Response(Bun.stdin.stream()).text(),
    fetch: (url, init) => fetch(url, init),
  };
}

/** A path as shown to the user: relative to the working directory when that is shorter. */
export function displayPath(io: Pick<CliIo, "cwd">, path: string): string {
  const shown = relative(io.cwd, path);
  return shown === "" ? "." : shown.length < path.length ? shown : path;
}
