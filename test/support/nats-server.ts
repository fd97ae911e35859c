/**
 * Starts a private `nats-server` with JetStream on a free port, for tests that need their own server
 * (to stop and restart it, or to give it a configuration). Tests that only need a server use the shared
 * one at NATS_URL with a unique bus namespace instead.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const natsServerBinary = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface NatsServerHandle {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL); its JetStream store is kept for a restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
  /** What the server has logged so far (it logs to stderr). */
  log(): string;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export async function isListening(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

async function waitForPort(port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit !== undefined) throw new Error(`nats-server exited before listening on ${port}: ${exit}`);
    if (await isListening(port)) return;
    await Bun.sleep(25);
  }
  throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts nats-server. `config` is the text of a configuration file (its `listen` is set by the harness);
 * without it the server runs with JetStream and no authentication.
 */
export async function startNatsServer(
  options: { config?: string; env?: Record<string, string> } = {},
): Promise<NatsServerHandle> {
  if (!existsSync(natsServerBinary)) {
    throw new Error(
      `nats-server not found at ${natsServerBinary}: install it (apt-get install -y nats-server) or set NATS_SERVER_BIN`,
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "secrets-nats-"));
  const storeDir = join(dir, "jetstream");
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir];
  if (options.config !== undefined) {
    const configPath = join(dir, "nats.conf");
    writeFileSync(configPath, options.config);
    args.push("-c", configPath);
  }
  let child: Subprocess | undefined;
  let output = "";
  const start = async () => {
    child = Bun.spawn([natsServerBinary, ...args], {
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, ...options.env },
    });
    // Drain the server's log (a full pipe would stall it) and keep it for assertions.
    const stderr = child.stderr;
    if (stderr instanceof ReadableStream) {
      void (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of stderr) output += decoder.decode(chunk, { stream: true });
      })();
    }
    // A loaded machine (CI runs many suites at once) can take a while to start a process.
    const spawned = child;
    await waitForPort(port, 30_000, () =>
      spawned.exitCode === null && spawned.signalCode === null
        ? undefined
        : `${spawned.signalCode ?? `exit code ${spawned.exitCode}`}\n${output}`,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    running.kill("SIGTERM");
    const killed = await Promise.race([running.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
    if (!killed) {
      running.kill("SIGKILL");
      await running.exited;
    }
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    restart: start,
    log: () => output,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bus namespace no other test run uses. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** The local nats-server's version, as `[major, minor, patch]`. */
export function natsServerVersion(): [number, number, number] {
  const out = Bun.spawnSync([natsServerBinary, "--version"]).stdout.toString();
  const [, major = "0", minor = "0", patch = "0"] = /v(\d+)\.(\d+)\.(\d+)/.exec(out) ?? [];
  return [Number(major), Number(minor), Number(patch)];
}

/**
 * A shipped configuration as the local nats-server can read it. Debian 12 ships nats-server 2.9, which
 * predates `sync_interval` (2.10, the version of the deployment's image): the line is dropped for it, and
 * only for it, so every other line is tested as shipped.
 */
export function forLocalNatsServer(config: string): string {
  const [major, minor] = natsServerVersion();
  return major > 2 || (major === 2 && minor >= 10) ? config : config.replace(/^\s*sync_interval:.*$/m, "");
}
