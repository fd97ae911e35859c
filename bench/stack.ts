/**
 * The distributed stack under test: a fresh PostgreSQL database and a unique bus namespace on the shared
 * servers, a Loki stand-in, and vault, audit, admin API and N gateways as real processes, each started as
 * `bun services/<name>/src/main.ts` exactly as in production. Their logs (info level, one line per call)
 * are drained and only the tail is kept, so reading them costs the harness next to nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteAuditStream } from "@secrets/test/support/audit-stream";
import { type LokiReceiver, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { freePort, uniqueNamespace } from "@secrets/test/support/nats-server";
import { createTestDatabase, type TestDatabase } from "@secrets/test/support/postgres";
import { newAdminToken } from "@secrets/test/support/tokens";
import type { Subprocess } from "bun";
import { connect } from "nats";
import { repoRoot } from "./spawn.ts";

export interface ServiceHandle {
  name: string;
  pid: number;
  /** The last lines it logged, for diagnosis. */
  tail(): string;
  stop(): Promise<void>;
}

export interface BenchStack {
  natsUrl: string;
  namespace: string;
  databaseUrl: string;
  vaultDataDir: string;
  /** The data directory every gateway shares, so they share one generated CA and certificate. */
  gatewayDataDir: string;
  caFile: string;
  adminToken: string;
  loki: LokiReceiver;
  vault: ServiceHandle;
  audit: ServiceHandle;
  gateways: { handle: ServiceHandle; address: string }[];
  adminUrl: string;
  tempDir(prefix: string): string;
  dispose(): Promise<void>;
}

const tailBytes = 16 * 1024;

/** Starts `services/<service>/src/main.ts` and resolves once it logs `readyMsg`. */
async function startService(
  service: string,
  env: Record<string, string>,
  readyMsg: string,
  cpuProfileDir: string | undefined,
  timeoutMs = 30_000,
): Promise<ServiceHandle> {
  // Bun writes the profile when the process exits (read it with bench/profile/summarize-cpuprofile.ts).
  const profile = cpuProfileDir
    ? [
        "--cpu-prof",
        `--cpu-prof-dir=${cpuProfileDir}`,
        `--cpu-prof-name=${service}-${process.pid}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const child: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(
    ["bun", ...profile, join(repoRoot, "services", service, "src", "main.ts")],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let tail = "";
  let ready = false;
  let onReady: () => void = () => {};
  const readyNeedle = `"msg":${JSON.stringify(readyMsg)}`;
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-tailBytes);
      if (!ready && tail.includes(readyNeedle)) {
        ready = true;
        onReady();
      }
    }
  };
  void drain(child.stdout);
  void drain(child.stderr);
  const handle: ServiceHandle = {
    name: service,
    pid: child.pid,
    tail: () => tail,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited, Bun.sleep(10_000).then(() => undefined)]);
      if (exited === undefined) {
        child.kill("SIGKILL");
        await child.exited;
      }
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${service} was not ready in ${timeoutMs} ms:\n${tail}`)),
      timeoutMs,
    );
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    if (ready) onReady();
    void child.exited.then((code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${service} exited with ${code} before it was ready:\n${tail}`));
    });
  });
  return handle;
}

/** Removes the namespace's lease bucket (`KV_<NS>_LEASES`), created by the audit service. */
async function deleteLeaseBucket(natsUrl: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${namespace.toUpperCase().replaceAll("-", "_")}_LEASES`).catch(() => false);
  } finally {
    await nc.close();
  }
}

export interface StackOptions {
  natsUrl: string;
  gateways: number;
  /** Extra environment of the vault. */
  vaultEnv?: Record<string, string>;
  /** Where the services write CPU profiles when they stop; none when unset. */
  cpuProfileDir?: string | undefined;
}

/** Starts everything; on any failure what was started is stopped and removed again. */
export async function startBenchStack(options: StackOptions): Promise<BenchStack> {
  const namespace = uniqueNamespace("bench");
  const dirs: string[] = [];
  const services: ServiceHandle[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  let database: TestDatabase | undefined;
  let loki: LokiReceiver | undefined;
  const dispose = async () => {
    await Promise.all(services.map((service) => service.stop()));
    await loki?.stop();
    await deleteAuditStream(options.natsUrl, namespace).catch(() => {});
    await deleteLeaseBucket(options.natsUrl, namespace).catch(() => {});
    await database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    database = await createTestDatabase("secrets_bench");
    loki = await startLokiReceiver();
    const adminToken = newAdminToken();
    const env = (extra: Record<string, string>) => ({
      NATS_URL: options.natsUrl,
      BUS_NAMESPACE: namespace,
      LOG_LEVEL: "info",
      ...extra,
    });
    const vaultDataDir = tempDir("bench-vault-");
    const vault = await startService(
      "vault",
      env({
        DATABASE_URL: database.url,
        SECRETS_DATA_DIR: vaultDataDir,
        ADMIN_BOOTSTRAP_TOKEN: adminToken,
        ...options.vaultEnv,
      }),
      "vault ready",
      options.cpuProfileDir,
    );
    services.push(vault);
    const audit = await startService(
      "audit",
      env({ SECRETS_DATA_DIR: tempDir("bench-audit-"), LOKI_URL: loki.url }),
      "audit ready",
      options.cpuProfileDir,
    );
    services.push(audit);
    const adminPort = await freePort();
    services.push(
      await startService(
        "admin-api",
        env({ ADMIN_PORT: String(adminPort), ADMIN_HOST: "127.0.0.1", ADMIN_COOKIE_SECURE: "false" }),
        "admin api listening",
        options.cpuProfileDir,
      ),
    );
    const gatewayDataDir = tempDir("bench-gateway-");
    const gateways: BenchStack["gateways"] = [];
    // One after the other: the first generates the shared TLS material, the others reuse it.
    for (let i = 0; i < options.gateways; i++) {
      const port = await freePort();
      const handle = await startService(
        "gateway-grpc",
        env({
          GRPC_PORT: String(port),
          GRPC_HOST: "127.0.0.1",
          SECRETS_DATA_DIR: gatewayDataDir,
          // Every load generator call comes from 127.0.0.1: the per-address limits would measure themselves.
          RATE_LIMIT_REGISTER_PER_MINUTE: "1000000",
        }),
        "gateway listening",
        options.cpuProfileDir,
      );
      services.push(handle);
      gateways.push({ handle, address: `localhost:${port}` });
    }
    return {
      natsUrl: options.natsUrl,
      namespace,
      databaseUrl: database.url,
      vaultDataDir,
      gatewayDataDir,
      caFile: join(gatewayDataDir, "tls", "ca.crt"),
      adminToken,
      loki,
      vault,
      audit,
      gateways,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      tempDir,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
