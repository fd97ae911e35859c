/**
 * Rotation pushed to services, end to end on real processes (vault, gateway, admin API on NATS and
 * PostgreSQL) with the SDK in this process:
 *
 * - an admin's new value (`POST /secrets`) reaches a watching client through `watch` within one second,
 *   and a read after the callback returns the new value;
 * - the stream keeps working across a vault restart (the gateway keeps it open);
 * - after a gateway restart on the same port the client reconnects by itself and reports the change it
 *   missed while the gateway was down;
 * - a rollback (`POST /secrets/:id/rollback`) is pushed like any change.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSecretsClient,
  type SecretChange,
  type SecretsClient,
  TokenPendingApprovalError,
} from "../../packages/sdk/src/index.ts";
import { type AdminHttpClient, adminHttpClient } from "../support/admin-http.ts";
import type { ServiceProcess } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";

const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const serviceName = "watch-app";
const schema = { PAYMENTS_API_KEY: "Payments provider API key" } as const;
const value = (n: number) => `pk_live_${n}_${randomBytes(12).toString("hex")}`;
const values = [value(0), value(1), value(2), value(3), value(4), value(5)];

let stack: Stack;
let vault: ServiceProcess;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let http: AdminHttpClient;
let admin: ReturnType<AdminHttpClient["as"]>;
let client: SecretsClient<keyof typeof schema>;
let secretId = "";
let clientDataDir = "";
const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const changes: SecretChange[] = [];
const waiters: (() => void)[] = [];

const logger = {
  info: (message: string, fields: Record<string, unknown> = {}) =>
    logged.push({ level: "info", message, fields }),
  warn: (message: string, fields: Record<string, unknown> = {}) =>
    logged.push({ level: "warn", message, fields }),
};

/** Resolves with the next change after the first `seen` ones, or rejects after `timeoutMs`. */
async function changeAfter(seen: number, timeoutMs: number): Promise<SecretChange> {
  const deadline = Date.now() + timeoutMs;
  while (changes.length <= seen) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no change within ${timeoutMs} ms (seen: ${JSON.stringify(changes)})`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return changes[seen] as SecretChange;
}

/** Resolves once the client has logged `message` `count` times. */
async function loggedTimes(message: string, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (logged.filter((l) => l.message === message).length < count) {
    if (Date.now() > deadline)
      throw new Error(`"${message}" not logged ${count} times: ${JSON.stringify(logged)}`);
    await Bun.sleep(20);
  }
}

async function putValue(secretValue: string): Promise<void> {
  const response = await admin.putSecret({ name: "PAYMENTS_API_KEY", value: secretValue });
  expect(response.status, response.text).toBeLessThan(300);
  secretId = response.json.secret.id;
}

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  gateway = await stack.startGateway();
  const adminApi = await stack.startAdminApi();
  http = adminHttpClient(adminApi.url);
  admin = http.as({ token: adminToken });

  await putValue(values[0] as string);
  clientDataDir = stack.tempDir("e2e-watch-app-");
  client = createSecretsClient(schema, {
    serviceName,
    address: gateway.address,
    caFile: gateway.caFile,
    dataDir: clientDataDir,
    cacheTtlMs: 60_000,
    logger,
  });
  await expect(client.getSecret("PAYMENTS_API_KEY")).rejects.toBeInstanceOf(TokenPendingApprovalError);
  const tokens = (await admin.listServiceTokens("pending")).json.serviceTokens as {
    id: string;
    serviceName: string;
  }[];
  const pending = tokens.find((t) => t.serviceName === serviceName);
  expect((await admin.approveToken(pending?.id ?? "")).status).toBe(200);
  expect((await admin.grantAccess("PAYMENTS_API_KEY", serviceName)).status).toBeLessThan(300);
  expect(await client.getSecret("PAYMENTS_API_KEY")).toBe(values[0]);

  client.watch("PAYMENTS_API_KEY", (change) => {
    changes.push(change);
    for (const wake of waiters.splice(0)) wake();
  });
  await loggedTimes("watching secrets", 1);
}, 90_000);

afterAll(async () => {
  client?.close();
  await stack?.dispose();
});

describe("rotation pushed to services", () => {
  it("delivers an admin's new value to a watching client within one second", async () => {
    const started = performance.now();
    await putValue(values[1] as string);
    const change = await changeAfter(0, 1_000);
    const elapsedMs = performance.now() - started;
    expect(change).toEqual({ key: "PAYMENTS_API_KEY", version: 2, deleted: false });
    expect(elapsedMs).toBeLessThan(1_000);
    expect(await client.getSecret("PAYMENTS_API_KEY")).toBe(values[1]);
  });

  it("keeps the stream open across a vault restart", async () => {
    await vault.stop();
    vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
    await putValue(values[2] as string);
    expect(await changeAfter(1, 5_000)).toEqual({ key: "PAYMENTS_API_KEY", version: 3, deleted: false });
    expect(await client.getSecret("PAYMENTS_API_KEY")).toBe(values[2]);
    // The same stream: the client never had to reconnect.
    expect(logged.filter((l) => l.message === "watching secrets")).toHaveLength(1);
    expect(logged.filter((l) => l.message === "watch stream lost; reconnecting")).toHaveLength(0);
  }, 60_000);

  it("reconnects after a gateway restart and reports the change made while it was down", async () => {
    await gateway.process.stop();
    await loggedTimes("watch stream lost; reconnecting", 1);
    expect(logged.find((l) => l.message === "watch stream lost; reconnecting")?.fields).toMatchObject({
      code: "UNAVAILABLE",
    });
    await putValue(values[3] as string);
    gateway = await stack.startGateway({
      GRPC_PORT: String(gateway.port),
      SECRETS_DATA_DIR: dirname(dirname(gateway.caFile)),
    });
    expect(await changeAfter(2, 15_000)).toEqual({ key: "PAYMENTS_API_KEY", version: 4, deleted: false });
    expect(logged.filter((l) => l.message === "watching secrets").at(-1)?.fields).toMatchObject({
      reconnected: true,
    });
    expect(await client.getSecret("PAYMENTS_API_KEY")).toBe(values[3]);

    const started = performance.now();
    await putValue(values[4] as string);
    expect(await changeAfter(3, 1_000)).toMatchObject({ version: 5 });
    expect(performance.now() - started).toBeLessThan(1_000);
  }, 60_000);

  it("pushes a rollback like any other change", async () => {
    const response = await http.send("POST", `/secrets/${secretId}/rollback`, {
      credential: { token: adminToken },
      body: { version: 1 },
    });
    expect(response.status, response.text).toBe(200);
    expect(await changeAfter(4, 1_000)).toEqual({ key: "PAYMENTS_API_KEY", version: 6, deleted: false });
    expect(await client.getSecret("PAYMENTS_API_KEY")).toBe(values[0]);
  });

  it("never logs a value or the token, in the client or in any service", () => {
    const token = JSON.parse(readFileSync(join(clientDataDir, "service-token"), "utf8")).token as string;
    expect(token.length).toBeGreaterThanOrEqual(43);
    const lines = [...stack.logLines(), ...logged.map((l) => JSON.stringify(l))];
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      for (const secret of values) expect(line).not.toContain(secret);
      expect(line).not.toContain(token);
    }
    expect(stack.logLines().some((line) => line.includes('"method":"WatchSecrets"'))).toBe(true);
  });
});
