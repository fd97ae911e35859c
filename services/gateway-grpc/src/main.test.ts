/**
 * The gateway as a real process: `bun services/gateway-grpc/src/main.ts` with bad configuration, and
 * with a real NATS server (NATS_URL, default 127.0.0.1:4222) under a unique bus namespace.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { connectNatsBus, serve, serviceOperations, vaultQueue } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { SecretsServiceClient } from "@secrets/proto/secrets";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { describe, expect, it } from "vitest";
import { HealthClient, ServingStatus } from "./health-proto.ts";

const mainPath = join(import.meta.dirname, "main.ts");
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A clean environment: nothing from the developer's shell leaks into the gateway's configuration. */
function gatewayEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...extra };
}

/** Reads the child's stdout line by line until `predicate` matches a parsed JSON line. */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  predicate: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the gateway's output ended before the expected line:\n${buffer}`);
    buffer += decoder.decode(value, { stream: true });
    for (const text of buffer.split("\n").slice(0, -1)) {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (predicate(line)) {
        reader.releaseLock();
        return line;
      }
    }
    buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
  }
}

describe("main.ts", () => {
  it("exits non-zero listing every configuration problem", async () => {
    const child = Bun.spawn([process.execPath, mainPath], {
      env: gatewayEnv({
        GRPC_PORT: "http",
        GRPC_INSECURE: "maybe",
        GATEWAY_VAULT_TIMEOUT_MS: "5",
        RATE_LIMIT_REGISTER_PER_MINUTE: "0",
        RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "many",
        GRPC_TLS_CERT: "/etc/gateway.crt",
        GRPC_TLS_SANS: "ok.example, bad name!",
        NATS_URL: "http://nats",
        LOG_LEVEL: "loud",
      }),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect(code).not.toBe(0);
    for (const name of [
      "GRPC_PORT",
      "GRPC_INSECURE",
      "GATEWAY_VAULT_TIMEOUT_MS",
      "RATE_LIMIT_REGISTER_PER_MINUTE",
      "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE",
      "GRPC_TLS_CERT and GRPC_TLS_KEY",
      "GRPC_TLS_SANS",
      "NATS_URL",
      "LOG_LEVEL",
    ]) {
      expect(stderr).toContain(name);
    }
    expect(stderr).toContain("bad name!");
  });

  it("listens with generated TLS, follows the vault over NATS, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gateway-main-"));
    const namespace = uniqueNamespace("gw");
    const child = Bun.spawn([process.execPath, mainPath], {
      env: gatewayEnv({
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: "0",
        SECRETS_DATA_DIR: dataDir,
        NATS_URL: natsUrl,
        BUS_NAMESPACE: namespace,
        GATEWAY_VAULT_TIMEOUT_MS: "1000",
      }),
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = new Response(child.stderr).text();
    const vaultBus = await connectNatsBus({
      url: natsUrl,
      namespace,
      name: "fake-vault",
      logger: silentLogger,
    });
    try {
      const listening = await waitForLine(child.stdout, (line) => line.msg === "gateway listening");
      expect(listening).toMatchObject({ tls: "generated", caCertPath: join(dataDir, "tls", "ca.crt") });
      const port = Number(String(listening.address).split(":").pop());
      const channel = credentials.createSsl(readFileSync(join(dataDir, "tls", "ca.crt")));
      const client = new SecretsServiceClient(`localhost:${port}`, channel);
      const health = new HealthClient(`localhost:${port}`, channel);
      const request = { secretName: "DATABASE_URL", description: "", token: "t".repeat(43) };
      const getSecret = () =>
        new Promise<{ code: status; value?: string }>((resolve) => {
          client.getSecret(request, new Metadata(), { deadline: Date.now() + 2_000 }, (error, response) =>
            resolve(error ? { code: error.code } : { code: status.OK, value: response.value }),
          );
        });
      const check = () =>
        new Promise<ServingStatus | undefined>((resolve) => {
          health.check({ service: "" }, new Metadata(), { deadline: Date.now() + 2_000 }, (error, response) =>
            resolve(error ? undefined : response.status),
          );
        });

      expect(await getSecret()).toEqual({ code: status.UNAVAILABLE });
      expect(await check()).toBe(ServingStatus.NOT_SERVING);

      serve(vaultBus, serviceOperations.getSecret, { queue: vaultQueue }, async () => ({
        value: "postgres://x",
      }));
      serve(vaultBus, serviceOperations.ping, { queue: vaultQueue }, async () => ({ nowMs: Date.now() }));
      await vaultBus.flush();
      expect(await getSecret()).toEqual({ code: status.OK, value: "postgres://x" });
      await Bun.sleep(1_100); // the health service pings again once its last answer is a second old
      expect(await check()).toBe(ServingStatus.SERVING);
      client.close();
      health.close();

      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      expect(await stderr).toMatch(/"grpcStatus":"UNAVAILABLE"/); // warnings go to stderr
    } finally {
      child.kill("SIGKILL");
      await vaultBus.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
