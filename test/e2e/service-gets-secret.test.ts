/**
 * A service gets a secret over gRPC: the vault and a gateway as separate Bun processes on real NATS and
 * real PostgreSQL, a plain grpc-js client over TLS, and an admin acting over the bus.
 */
import { ServiceTokenStatus } from "@secrets/proto/admin";
import { TokenStatus } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminBusClient, adminBusClient } from "../support/admin-bus-client.ts";
import { deleteAuditStream, readAuditStream } from "../support/audit-stream.ts";
import { secretsClient } from "../support/grpc-client.ts";
import type { ServiceProcess } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

let stack: Stack;
let vault: ServiceProcess;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let grpc: ReturnType<typeof secretsClient>;
let admin: AdminBusClient;

const secretValue = `pg-password-${crypto.randomUUID()}`;
const token = newServiceToken();

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault();
  gateway = await stack.startGateway();
  grpc = secretsClient(gateway.address, gateway.caFile);
  admin = adminBusClient(stack.bus);
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

async function dumpDatabase(url: string): Promise<string> {
  const dump = Bun.spawn(["pg_dump", "--data-only", url], { stdout: "pipe", stderr: "pipe" });
  const [text, code] = await Promise.all([new Response(dump.stdout).text(), dump.exited]);
  if (code !== 0) throw new Error(`pg_dump failed: ${await new Response(dump.stderr).text()}`);
  return text;
}

describe("a service gets a secret over gRPC", () => {
  const requestIds: string[] = [];

  it("goes from registration to value, every step audited, no value at rest in clear", async () => {
    const registered = await grpc.registerToken("orders", token, "2.1.0");
    expect(registered).toMatchObject({ ok: true, response: { status: TokenStatus.PENDING_APPROVAL } });
    requestIds.push(registered.requestId);

    const pending = await grpc.getSecret("ORDERS_DB_PASSWORD", token, {
      description: "Orders database password",
    });
    expect(pending).toMatchObject({ code: "PERMISSION_DENIED", reason: "TOKEN_PENDING_APPROVAL" });
    requestIds.push(pending.requestId);

    const tokens = await admin.listServiceTokens(ServiceTokenStatus.PENDING);
    const orders = tokens.serviceTokens.find((t) => t.serviceName === "orders");
    expect(orders).toMatchObject({ serviceVersion: "2.1.0", inheritedAccessRequests: 0 });
    await admin.approveToken(orders?.id ?? "");

    const missing = await grpc.getSecret("ORDERS_DB_PASSWORD", token, {
      description: "Orders database password",
    });
    expect(missing).toMatchObject({ code: "NOT_FOUND", reason: "SECRET_STUB_CREATED" });
    requestIds.push(missing.requestId);

    const stub = (await admin.listSecrets("", true)).secrets.find((s) => s.name === "ORDERS_DB_PASSWORD");
    expect(stub).toMatchObject({
      isStub: true,
      description: "Orders database password",
      requestedBy: ["orders"],
    });
    await admin.putSecret("ORDERS_DB_PASSWORD", { value: secretValue });
    const access = (await admin.listAccessRequests()).accessRequests.find(
      (r) => r.secretName === "ORDERS_DB_PASSWORD",
    );
    await admin.approveAccess(access?.id ?? "");

    const granted = await grpc.getSecret("ORDERS_DB_PASSWORD", token);
    expect(granted).toMatchObject({ ok: true, response: { value: secretValue, success: true } });
    requestIds.push(granted.requestId);

    const events = await readAuditStream(stack.natsUrl, stack.namespace);
    const serviceEvents = events.filter((e) => ["secret.get", "token.register"].includes(e.event.event));
    expect(serviceEvents.map((e) => e.event.requestId).sort()).toEqual([...requestIds].sort());
    expect(serviceEvents.map((e) => [e.event.event, e.event.success, e.event.reason])).toEqual([
      ["token.register", true, ""],
      ["secret.get", false, "TOKEN_PENDING_APPROVAL"],
      ["secret.get", false, "SECRET_STUB_CREATED"],
      ["secret.get", true, ""],
    ]);
    expect(
      serviceEvents.every((e) => e.event.ipAddress === "127.0.0.1" && e.event.userAgent.includes("grpc")),
    ).toBe(true);
    for (const { data } of events) {
      expect(Buffer.from(data).includes(secretValue)).toBe(false);
      expect(Buffer.from(data).includes(token)).toBe(false);
    }

    const dump = await dumpDatabase(stack.databaseUrl);
    expect(dump).toContain("ORDERS_DB_PASSWORD");
    expect(dump).not.toContain(secretValue);
    expect(dump).not.toContain(Buffer.from(secretValue).toString("hex"));
    expect(dump).not.toContain(token);
  });

  it("serves the same vault from a second gateway", async () => {
    const second = await stack.startGateway();
    const other = secretsClient(second.address, second.caFile);
    try {
      expect(await other.getSecret("ORDERS_DB_PASSWORD", token)).toMatchObject({
        response: { value: secretValue },
      });
    } finally {
      other.close();
      await second.process.stop();
    }
  });

  it("answers UNAVAILABLE within the deadline while the vault is down, and recovers without a gateway restart", async () => {
    await vault.kill();
    const down = await grpc.getSecret("ORDERS_DB_PASSWORD", token, { deadlineMs: 3_000 });
    expect(down).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    expect(JSON.stringify(down)).not.toContain(secretValue);
    vault = await stack.startVault();
    let recovered = await grpc.getSecret("ORDERS_DB_PASSWORD", token, { deadlineMs: 3_000 });
    for (let attempt = 0; attempt < 50 && !recovered.ok; attempt++) {
      await Bun.sleep(100);
      recovered = await grpc.getSecret("ORDERS_DB_PASSWORD", token, { deadlineMs: 3_000 });
    }
    expect(recovered).toMatchObject({ ok: true, response: { value: secretValue } });
    expect(gateway.process.lines.filter((line) => line.includes("gateway listening"))).toHaveLength(1);
  });

  it("returns no value when the audit stream refuses events", async () => {
    await deleteAuditStream(stack.natsUrl, stack.namespace);
    const refused = await grpc.getSecret("ORDERS_DB_PASSWORD", token);
    expect(refused).toMatchObject({ ok: false, code: "UNAVAILABLE", reason: "AUDIT_UNAVAILABLE" });
    expect(refused.response).toBeUndefined();
    expect(JSON.stringify(refused)).not.toContain(secretValue);
    // The vault creates its stream at start-up: a restart restores service.
    await vault.stop();
    vault = await stack.startVault();
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", token)).toMatchObject({ ok: true });
  });

  it("creates one stub and one access request for 500 simultaneous gRPC requests", async () => {
    const stampede = await Promise.all(
      Array.from({ length: 500 }, () =>
        grpc.getSecret("STAMPEDE_OVER_GRPC", token, { description: "wanted" }),
      ),
    );
    expect(stampede.filter((o) => o.reason === "SECRET_STUB_CREATED").length).toBeGreaterThan(0);
    expect(stampede.every((o) => ["SECRET_STUB_CREATED", "ACCESS_PENDING"].includes(o.reason))).toBe(true);
    const stubs = (await admin.listSecrets("STAMPEDE_OVER_GRPC")).secrets;
    expect(stubs).toHaveLength(1);
    const requests = (await admin.listAccessRequests()).accessRequests.filter(
      (r) => r.secretName === "STAMPEDE_OVER_GRPC",
    );
    expect(requests).toHaveLength(1);
  });

  it("never logs a value or a token", () => {
    const lines = stack.logLines();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).not.toContain(secretValue);
      expect(line).not.toContain(token);
    }
  });
});
