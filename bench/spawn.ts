/**
 * Starting the harness's own child processes (load generators and baseline servers) and reading their
 * one-line answers (see `worker-io.ts`).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const benchDir = join(repoRoot, "bench");

function spawnChild(script: string, spec: unknown): Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn(["bun", join(benchDir, script), JSON.stringify(spec)], {
    cwd: repoRoot,
    env: { ...process.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Lines of a stream as they arrive. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered) yield buffered;
}

function parseAnswer(line: string, key: "ready" | "result"): unknown {
  if (!line.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    return key in value ? value[key] : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a load generator (`bench/<script>`) to its end and returns its result. */
export async function runWorker<R>(script: string, spec: unknown, timeoutMs = 120_000): Promise<R> {
  const child = spawnChild(script, spec);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    const result = stdout
      .split("\n")
      .map((line) => parseAnswer(line, "result"))
      .find((value) => value !== undefined);
    if (code !== 0 || result === undefined) {
      throw new Error(`${script} exited with ${code} and no result:\n${stdout}\n${stderr}`.trim());
    }
    return result as R;
  } finally {
    clearTimeout(timer);
  }
}

export interface ChildServer<T> {
  ready: T;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a baseline server (`bench/<script>`) and resolves once it reports that it listens. */
export async function startServer<T>(
  script: string,
  spec: unknown,
  timeoutMs = 30_000,
): Promise<ChildServer<T>> {
  const child = spawnChild(script, spec);
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const exited = await Promise.race([child.exited, Bun.sleep(3_000).then(() => undefined)]);
    if (exited === undefined) {
      child.kill("SIGKILL");
      await child.exited;
    }
  };
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    for await (const line of lines(child.stdout)) {
      const ready = parseAnswer(line, "ready");
      if (ready !== undefined) return { ready: ready as T, pid: child.pid, stop };
    }
    throw new Error(`${script} exited before it was ready:\n${await stderr}`);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
