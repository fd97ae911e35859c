/**
 * Debian's nginx, run by a test with the shipped balancer configuration (`deploy/nginx/grpc-lb.conf`)
 * adapted to local ports: its upstream servers become the test's gateways, and everything nginx writes
 * goes under a temporary prefix.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isListening } from "./nats-server.ts";
import { repoRoot } from "./processes.ts";

export const nginxBinary = "/usr/sbin/nginx";

export interface NginxHandle {
  port: number;
  /** What nginx wrote to its error log. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Debian's stream module (package libnginx-mod-stream); the official nginx image has it built in. */
export const streamModule = "/usr/lib/nginx/modules/ngx_stream_module.so";

/** The shipped configuration with local upstreams and port, and everything nginx writes under `prefix`. */
export function adaptShippedBalancer(options: {
  port: number;
  upstreams: readonly number[];
  prefix: string;
}): string {
  if (!existsSync(streamModule))
    throw new Error(`${streamModule} is missing: apt-get install libnginx-mod-stream`);
  const shipped = readFileSync(join(repoRoot, "deploy", "nginx", "grpc-lb.conf"), "utf8");
  const servers = options.upstreams.map((port) => `server 127.0.0.1:${port};`).join("\n    ");
  const adapted = shipped
    .replace(/^\s*resolver .*$/m, "")
    .replace("server gateway-grpc:50051 resolve;", servers)
    .replace("listen 50051;", `listen 127.0.0.1:${options.port};`);
  for (const expected of [servers, `127.0.0.1:${options.port}`, "proxy_protocol on;"]) {
    if (!adapted.includes(expected)) throw new Error(`the shipped grpc-lb.conf changed shape: ${expected}`);
  }
  return [
    `load_module ${streamModule};`,
    `error_log ${options.prefix}/error.log info;`,
    `pid ${options.prefix}/nginx.pid;`,
    adapted,
  ].join("\n");
}

export async function startNginx(config: string, prefix: string, port: number): Promise<NginxHandle> {
  if (!existsSync(nginxBinary)) throw new Error(`${nginxBinary} is missing: apt-get install nginx`);
  mkdirSync(prefix, { recursive: true });
  const confPath = join(prefix, "nginx.conf");
  writeFileSync(confPath, config);
  const child = spawn(nginxBinary, ["-p", prefix, "-c", confPath, "-g", "daemon off; master_process off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errorLog = () => {
    const path = join(prefix, "error.log");
    return stderr + (existsSync(path) ? readFileSync(path, "utf8") : "");
  };
  const deadline = Date.now() + 10_000;
  while (!(await isListening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nginx did not start listening on ${port}:\n${errorLog()}`);
    }
    await Bun.sleep(50);
  }
  return {
    port,
    errorLog,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, Bun.sleep(3_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
