/**
 * The bus over TLS: with NATS_TLS_* set, every process connects to a nats-server that requires TLS and
 * a client certificate, and a service reads its secret through it; a process without the CA or without
 * a client certificate is refused, and says why in its log instead of waiting silently.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../support/admin-bus-client.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { createNatsTlsMaterial, type NatsTlsMaterial } from "../support/nats-tls.ts";
import { startService } from "../support/processes.ts";
import { provisionService } from "../support/provision.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "nats-tls-"));
let material: NatsTlsMaterial;
let nats: NatsServerHandle;
let stack: Stack;
let natsUrl = "";

beforeAll(async () => {
  material = createNatsTlsMaterial(dir);
  nats = await startNatsServer({ config: material.serverConfig });
  // The server's certificate names localhost and 127.0.0.1.
  natsUrl = `nats://localhost:${nats.port}`;
  stack = await createStack({
    natsUrl,
    natsTls: { caFile: material.caFile, certFile: material.clientCertFile, keyFile: material.clientKeyFile },
  });
});

afterAll(async () => {
  await stack?.dispose();
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bus over TLS with client certificates", () => {
  it("carries a service's secret from the vault through the gateway", async () => {
    await stack.startVault();
    const gateway = await stack.startGateway();
    const grpc = secretsClient(gateway.address, gateway.caFile);
    try {
      const service = { name: "orders", token: newServiceToken() };
      const value = `orders-db-${crypto.randomUUID()}`;
      await provisionService(grpc, adminBusClient(stack.bus), service, { ORDERS_DB_URL: value });
      const read = await grpc.getSecret("ORDERS_DB_URL", service.token);
      expect(read.ok && read.response?.value).toBe(value);
    } finally {
      grpc.close();
    }
  });

  it("refuses clients without TLS or without a client certificate", async () => {
    const attempt = (options: Parameters<typeof connect>[0]) =>
      connect({ servers: natsUrl, timeout: 3_000, ...options }).then(
        async (nc) => {
          await nc.close();
          return "connected";
        },
        (error: unknown) => String(error),
      );
    // nats.js upgrades to TLS when the server requires it, but then cannot verify the server without the CA.
    expect(await attempt({})).toMatch(/certificate/i);
    expect(await attempt({ tls: { caFile: material.caFile } })).not.toBe("connected");
    expect(
      await attempt({
        tls: { caFile: material.caFile, certFile: material.clientCertFile, keyFile: material.clientKeyFile },
      }),
    ).toBe("connected");
  });

  it("logs why a process cannot connect, then keeps trying", async () => {
    const env = stack.env({ SECRETS_DATA_DIR: stack.tempDir("nats-tls-vault-") });
    delete env.NATS_TLS_CERT_FILE;
    delete env.NATS_TLS_KEY_FILE;
    const vault = await startService("vault", "services/vault/src/main.ts", {
      env: { ...env, DATABASE_URL: stack.databaseUrl },
      readyLog: "cannot connect to NATS yet; retrying until it answers",
    });
    try {
      const warning = vault.lines.find((line) => line.includes("cannot connect to NATS yet"));
      expect(warning).toMatch(/"tls":true/);
      expect(warning).toMatch(/"error":/);
      expect(vault.lines.some((line) => line.includes('"vault ready"'))).toBe(false);
    } finally {
      await vault.stop();
    }
  });

  it("refuses to start with a client certificate but no key, naming both variables", () => {
    const run = Bun.spawnSync(["bun", "services/vault/src/main.ts"], {
      cwd: join(import.meta.dirname, "..", ".."),
      env: { ...stack.env({ NATS_TLS_KEY_FILE: "" }), PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeout: 20_000,
    });
    expect(run.exitCode).not.toBe(0);
    const output = run.stderr.toString() + run.stdout.toString();
    expect(output).toContain(
      "Invalid configuration:\n  - NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together",
    );
    expect(output).not.toContain("    at "); // a list of problems, not a stack trace
  });
});
