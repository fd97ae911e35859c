import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import type { BannerFacts } from "./banner.ts";
import { embeddedDefaults } from "./config.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

interface Child {
  name: string;
  ready: string;
  env: Record<string, string>;
}

export interface RunningProcesses {
  facts: Omit<BannerFacts, "bootstrapFromEnv">;
  /** Resolves when a service exits by itself (with its name), so the caller can stop the rest. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

async function forward(
  stream: ReadableStream<Uint8Array>,
  sink: NodeJS.WriteStream,
  onLine: (line: string) => void,
) {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      sink.write(`${line}\n`);
      onLine(line);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
}

function readyField(line: string, msg: string): Record<string, unknown> | undefined {
  try {
    const entry = JSON.parse(line);
    return entry && entry.msg === msg ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `bun run dev` with NATS_URL and DATABASE_URL: each service as its own process against those servers
 * (and LOKI_URL when set; otherwise audit goes to a JSONL file so the dashboard can still query it).
 */
export async function startProcesses(
  env: Record<string, string | undefined>,
  adminBootstrap: { token: string },
): Promise<RunningProcesses> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...embeddedDefaults, ...env }))
    if (value !== undefined) base[key] = value;
  const dataDir = resolve(base.SECRETS_DATA_DIR ?? "./data");
  const auditSink: Record<string, string> = base.LOKI_URL
    ? {}
    : { AUDIT_SINK: "file", AUDIT_FILE_PATH: join(dataDir, "audit", "journal.jsonl") };
  const children: Child[] = [
    {
      name: "vault",
      ready: "vault ready",
      env: { SECRETS_DATA_DIR: join(dataDir, "vault"), ADMIN_BOOTSTRAP_TOKEN: adminBootstrap.token },
    },
    { name: "audit", ready: "audit ready", env: { SECRETS_DATA_DIR: join(dataDir, "audit"), ...auditSink } },
    { name: "gateway-grpc", ready: "gateway listening", env: { SECRETS_DATA_DIR: join(dataDir, "gateway") } },
    { name: "admin-api", ready: "admin api listening", env: {} },
  ];
  const running: Subprocess[] = [];
  const seen = new Map<string, Record<string, unknown>>();
  let bootstrapped = false;
  let resolveExited: (name: string) => void = () => {};
  const exited = new Promise<string>((r) => {
    resolveExited = r;
  });

  for (const child of children) {
    const process = Bun.spawn(["bun", join(repoRoot, "services", child.name, "src", "main.ts")], {
      cwd: repoRoot,
      env: { ...base, ...child.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    running.push(process);
    const onLine = (line: string) => {
      const ready = readyField(line, child.ready);
      if (ready) seen.set(child.name, ready);
      if (readyField(line, "stored the bootstrap admin token")) bootstrapped = true;
    };
    void forward(process.stdout, globalThis.process.stdout, onLine);
    void forward(process.stderr, globalThis.process.stderr, onLine);
    void process.exited.then(() => resolveExited(child.name));
  }

  const deadline = Date.now() + 60_000;
  while (seen.size < children.length) {
    if (Date.now() > deadline)
      throw new Error(
        `services not ready: ${children
          .map((c) => c.name)
          .filter((n) => !seen.has(n))
          .join(", ")}`,
      );
    if (running.some((p) => p.exitCode !== null))
      throw new Error("a service exited while starting; see its log above");
    await Bun.sleep(50);
  }
  const gateway = seen.get("gateway-grpc") ?? {};
  const admin = seen.get("admin-api") ?? {};
  return {
    facts: {
      mode: "processes",
      dashboardUrl: `${String(admin.url)}/`,
      grpcAddress: String(gateway.address).replace(/^127\.0\.0\.1:|^0\.0\.0\.0:/, "localhost:"),
      caCertPath: typeof gateway.caCertPath === "string" ? resolve(repoRoot, gateway.caCertPath) : undefined,
      generatedAdminToken: bootstrapped ? adminBootstrap.token : undefined,
      dataDir,
    },
    exited,
    async stop() {
      for (const process of [...running].reverse()) process.kill("SIGTERM");
      await Promise.all(running.map((p) => Promise.race([p.exited, Bun.sleep(15_000)])));
      for (const process of running) if (process.exitCode === null) process.kill("SIGKILL");
    },
  };
}
