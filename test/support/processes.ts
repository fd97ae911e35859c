/**
 * Runs the project's services as real child processes (`bun services/<name>/src/main.ts`) for
 * end-to-end tests: waits for their ready line, keeps every log line, and stops or kills them.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

export interface ServiceProcess {
  readonly name: string;
  /** Every line the process wrote to stdout and stderr so far. */
  readonly lines: string[];
  readonly pid: number;
  /** Resolves with the first log line whose `msg` matches. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL at once. */
  kill(): Promise<void>;
  readonly exited: Promise<number>;
}

export interface StartOptions {
  /** Environment added to a minimal one (PATH, HOME). */
  env: Record<string, string>;
  /** The log message that means "ready". */
  readyLog?: string | RegExp;
  readyTimeoutMs?: number;
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered) onLine(buffered);
}

/**
 * Starts `services/<service>/src/main.ts` (or any script under the repository) with Bun; a `script`
 * of the form `run <name>` runs a package.json script instead (`bun run dev`).
 */
export async function startService(
  name: string,
  script: string,
  options: StartOptions,
): Promise<ServiceProcess> {
  const lines: string[] = [];
  const waiters: {
    match: (entry: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  const child: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(
    script.startsWith("run ") ? ["bun", ...script.split(" ")] : ["bun", join(repoRoot, script)],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const onLine = (line: string) => {
    lines.push(line);
    const entry = parse(line);
    if (!entry) return;
    for (const waiter of [...waiters]) {
      if (waiter.match(entry)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  };
  void collect(child.stdout, onLine);
  void collect(child.stderr, onLine);

  const waitForLog = (msg: string | RegExp, timeoutMs = 20_000) => {
    const match = (entry: Record<string, unknown>) =>
      typeof entry.msg === "string" && (typeof msg === "string" ? entry.msg === msg : msg.test(entry.msg));
    const seen = lines.map(parse).find((entry) => entry && match(entry));
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`${name} did not log ${msg} within ${timeoutMs} ms; its output:\n${lines.join("\n")}`),
        );
      }, timeoutMs);
      waiters.push({
        match,
        resolve: (entry) => {
          clearTimeout(timer);
          resolve(entry);
        },
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`${name} exited with ${code} before logging ${msg}; its output:\n${lines.join("\n")}`),
        );
      });
    });
  };

  const handle: ServiceProcess = {
    name,
    lines,
    pid: child.pid,
    exited: child.exited,
    waitForLog,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited, Bun.sleep(graceMs).then(() => undefined)]);
      if (exited === undefined) {
        child.kill("SIGKILL");
        return child.exited;
      }
      return exited;
    },
    async kill() {
      if (child.exitCode !== null) return;
      child.kill("SIGKILL");
      await child.exited;
    },
  };
  if (options.readyLog) await waitForLog(options.readyLog, options.readyTimeoutMs ?? 30_000);
  return handle;
}
