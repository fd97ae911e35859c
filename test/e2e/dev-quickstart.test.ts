/**
 * The README's quick start: `bun run dev` on a fresh data directory, as a child process. A plain grpc-js
 * client and HTTP requests go through the whole flow; then the process restarts and everything is still
 * there: the secret and its value, the approved token, the grant, and the audit trail.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStatus } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { freePort } from "../support/nats-server.ts";
import { type ServiceProcess, startService } from "../support/processes.ts";
import { newAdminToken, newServiceToken } from "../support/tokens.ts";

const dataDir = mkdtempSync(join(tmpdir(), "dev-quickstart-"));
let grpcPort: number;
let adminPort: number;
let dev: ServiceProcess;
const started: ServiceProcess[] = [];

async function startDev(): Promise<ServiceProcess> {
  const process = await startService("dev", "run dev", {
    // Only what a developer would have: no NATS_URL, no DATABASE_URL.
    env: { SECRETS_DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), ADMIN_PORT: String(adminPort) },
    readyLog: "secrets dev ready",
    readyTimeoutMs: 60_000,
  });
  started.push(process);
  return process;
}

beforeAll(async () => {
  grpcPort = await freePort();
  adminPort = await freePort();
  dev = await startDev();
});

afterAll(async () => {
  for (const process of started) await process.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const secretValue = `quickstart-${crypto.randomUUID()}`;
const serviceToken = newServiceToken();
let adminToken = "";

describe("bun run dev", () => {
  it("prints the dashboard URL, the gRPC address, the CA certificate and a new admin token", () => {
    const output = dev.lines.join("\n");
    expect(output).toContain(`Dashboard:     http://localhost:${adminPort}/`);
    expect(output).toContain(`gRPC:          localhost:${grpcPort} (TLS)`);
    expect(output).toContain(`CA cert:       ${join(dataDir, "tls", "ca.crt")}`);
    adminToken = output.match(/Admin token:\s+(ssadm_[A-Za-z0-9_-]{43})/)?.[1] ?? "";
    expect(adminToken).not.toBe("");
  });

  it("serves the dashboard at the printed URL, built on first start if needed", async () => {
    const page = await fetch(`http://127.0.0.1:${adminPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Secrets Service</title>");
  });

  it("completes the whole flow: token, stub, value, grant, value over gRPC, audit", async () => {
    const grpc = secretsClient(`localhost:${grpcPort}`, join(dataDir, "tls", "ca.crt"));
    const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
    const credential = { token: adminToken };
    try {
      expect(await grpc.registerToken("checkout", serviceToken)).toMatchObject({
        response: { status: TokenStatus.PENDING_APPROVAL },
      });
      const tokens = await http.send("GET", "/service-tokens?status=pending", { credential });
      const token = tokens.json.serviceTokens.find(
        (t: { serviceName: string }) => t.serviceName === "checkout",
      );
      expect((await http.send("POST", `/service-tokens/${token.id}/approve`, { credential })).status).toBe(
        200,
      );

      const missing = await grpc.getSecret("PAYMENT_KEY", serviceToken, {
        description: "Payment provider key",
      });
      expect(missing).toMatchObject({ code: "NOT_FOUND", reason: "SECRET_STUB_CREATED" });
      const stubs = await http.send("GET", "/secrets?missing=true", { credential });
      expect(stubs.json.secrets).toEqual([
        expect.objectContaining({
          name: "PAYMENT_KEY",
          description: "Payment provider key",
          requestedBy: ["checkout"],
        }),
      ]);
      const put = await http.send("POST", "/secrets", {
        credential,
        body: { name: "PAYMENT_KEY", value: secretValue },
      });
      expect(put.status).toBe(200);
      const pending = await http.send("GET", "/access-requests?status=pending", { credential });
      const access = pending.json.accessRequests.find(
        (r: { secretName: string }) => r.secretName === "PAYMENT_KEY",
      );
      expect((await http.send("POST", `/access-requests/${access.id}/approve`, { credential })).status).toBe(
        200,
      );

      const granted = await grpc.getSecret("PAYMENT_KEY", serviceToken);
      expect(granted).toMatchObject({ ok: true, response: { value: secretValue } });

      const audit = await http.send("GET", "/audit?secret=PAYMENT_KEY&outcome=success", { credential });
      expect(audit.status).toBe(200);
      expect(audit.json.events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            event: "secret.get",
            serviceName: "checkout",
            requestId: granted.requestId,
          }),
        ]),
      );
      for (const response of http.recorded) expect(JSON.stringify(response)).not.toContain(secretValue);
    } finally {
      grpc.close();
    }
  });

  it("stops cleanly and keeps every secret, token, grant and audit event across a restart", async () => {
    expect(await dev.stop()).toBe(0);
    dev = await startDev();
    expect(dev.lines.join("\n")).not.toMatch(/Admin token:\s+ssadm_/);
    const grpc = secretsClient(`localhost:${grpcPort}`, join(dataDir, "tls", "ca.crt"));
    const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
    const credential = { token: adminToken };
    try {
      expect(await grpc.getSecret("PAYMENT_KEY", serviceToken)).toMatchObject({
        ok: true,
        response: { value: secretValue },
      });
      const secrets = await http.send("GET", "/secrets", { credential });
      expect(secrets.json.secrets).toEqual([
        expect.objectContaining({ name: "PAYMENT_KEY", hasValue: true }),
      ]);
      const tokens = await http.send("GET", "/service-tokens?status=approved", { credential });
      expect(tokens.json.serviceTokens).toEqual([
        expect.objectContaining({ serviceName: "checkout", inheritedAccessRequests: 1 }),
      ]);
      const audit = await http.send("GET", "/audit?service=checkout&limit=1000", { credential });
      const events = audit.json.events.map((e: { event: string; success: boolean; reason: string | null }) =>
        [e.event, e.success, e.reason].join(" "),
      );
      expect(events).toEqual(
        expect.arrayContaining([
          "token.register true ",
          "secret.get false SECRET_STUB_CREATED",
          "secret.get true ",
          "token.approve true ",
          "access.approve true ",
        ]),
      );
    } finally {
      grpc.close();
    }
  });
});

describe("the README's first secret", () => {
  it("walks the hello example from registration to its secret", async () => {
    const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
    const credential = { token: adminToken };
    const hello = await startService("hello", "examples/hello/index.ts", {
      env: { SECRETS_DATA_DIR: dataDir, GRPC_PORT: String(grpcPort) },
    });
    started.push(hello);
    const waitFor = async (check: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 200; i++) {
        if (await check()) return;
        await Bun.sleep(100);
      }
      throw new Error(`timed out waiting for ${what}; the service said:\n${hello.lines.join("\n")}`);
    };
    let tokenId = "";
    await waitFor(async () => {
      const pending = await http.send("GET", "/service-tokens?status=pending", { credential });
      tokenId =
        pending.json.serviceTokens.find((t: { serviceName: string }) => t.serviceName === "hello")?.id ?? "";
      return tokenId !== "";
    }, "the hello token");
    await http.send("POST", `/service-tokens/${tokenId}/approve`, { credential });
    await waitFor(async () => {
      const missing = await http.send("GET", "/secrets?missing=true", { credential });
      return missing.json.secrets.some((s: { name: string }) => s.name === "GREETING");
    }, "GREETING among the missing secrets");
    await http.send("POST", "/secrets", { credential, body: { name: "GREETING", value: "Hello, world" } });
    const pending = await http.send("GET", "/access-requests?status=pending", { credential });
    const access = pending.json.accessRequests.find(
      (r: { secretName: string }) => r.secretName === "GREETING",
    );
    await http.send("POST", `/access-requests/${access.id}/approve`, { credential });
    expect(await hello.exited).toBe(0);
    expect(hello.lines.join("\n")).toContain("hello: read GREETING (12 characters) over gRPC");
    expect(hello.lines.join("\n")).not.toContain("Hello, world");
  });
});

describe("bun run dev with NATS_URL and DATABASE_URL", () => {
  it("starts each service as its own process against those servers", async () => {
    const { createTestDatabase } = await import("../support/postgres.ts");
    const { deleteAuditStream } = await import("../support/audit-stream.ts");
    const { uniqueNamespace } = await import("../support/nats-server.ts");
    const database = await createTestDatabase();
    const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
    const namespace = uniqueNamespace("dev");
    const dir = mkdtempSync(join(tmpdir(), "dev-processes-"));
    const [grpcPort2, adminPort2] = [await freePort(), await freePort()];
    const token = newAdminToken();
    const distributed = await startService("dev-processes", "run dev", {
      env: {
        SECRETS_DATA_DIR: dir,
        NATS_URL: natsUrl,
        DATABASE_URL: database.url,
        BUS_NAMESPACE: namespace,
        GRPC_PORT: String(grpcPort2),
        ADMIN_PORT: String(adminPort2),
        ADMIN_BOOTSTRAP_TOKEN: token,
      },
      readyLog: "secrets dev ready",
      readyTimeoutMs: 60_000,
    });
    const grpc = secretsClient(`localhost:${grpcPort2}`, join(dir, "gateway", "tls", "ca.crt"));
    try {
      const services = new Set(distributed.lines.map((line) => /"service":"([a-z-]+)"/.exec(line)?.[1]));
      expect([...services]).toEqual(expect.arrayContaining(["vault", "gateway-grpc", "admin-api", "audit"]));
      expect(distributed.lines.join("\n")).toContain("Admin token:   the ADMIN_BOOTSTRAP_TOKEN you set");
      const http = adminHttpClient(`http://127.0.0.1:${adminPort2}`);
      const credential = { token };
      await http.send("POST", "/secrets", { credential, body: { name: "PROCESS_MODE", value: "separate" } });
      await http.send("POST", "/access-requests", {
        credential,
        body: { secretName: "PROCESS_MODE", serviceName: "worker" },
      });
      const serviceToken2 = newServiceToken();
      await grpc.registerToken("worker", serviceToken2);
      const tokens = await http.send("GET", "/service-tokens?status=pending", { credential });
      await http.send("POST", `/service-tokens/${tokens.json.serviceTokens[0].id}/approve`, { credential });
      expect(await grpc.getSecret("PROCESS_MODE", serviceToken2)).toMatchObject({
        response: { value: "separate" },
      });
      expect(await distributed.stop()).toBe(0);
    } finally {
      grpc.close();
      await distributed.stop();
      await deleteAuditStream(natsUrl, namespace);
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
