/**
 * An admin works over HTTP only: the vault, a gateway and the admin API as separate Bun processes on real
 * NATS and PostgreSQL. A service registers over gRPC and asks for a missing secret; the admin approves
 * its token (Bearer), sets the value, and grants the access request through a dashboard session (cookie);
 * the service then receives the value.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminHttpClient, adminHttpClient } from "../support/admin-http.ts";
import { readAuditStream } from "../support/audit-stream.ts";
import { secretsClient } from "../support/grpc-client.ts";
import type { ServiceProcess } from "../support/processes.ts";
import { repoRoot } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

let stack: Stack;
let vault: ServiceProcess;
let adminApi: Awaited<ReturnType<Stack["startAdminApi"]>>;
let grpc: ReturnType<typeof secretsClient>;
let http: AdminHttpClient;

const bootstrapToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const serviceToken = newServiceToken();
const secretValue = `orders-db-${crypto.randomUUID()}`;

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: bootstrapToken, ADMIN_BOOTSTRAP_NAME: "root" });
  const gateway = await stack.startGateway();
  adminApi = await stack.startAdminApi({ ADMIN_AUTH_CACHE_MS: "1000", ADMIN_VAULT_TIMEOUT_MS: "2000" });
  grpc = secretsClient(gateway.address, gateway.caFile);
  http = adminHttpClient(adminApi.url);
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

/** `bun run admin:token …` against the stack's database, as an operator runs it. */
async function adminTokenCli(...args: string[]): Promise<string> {
  const child = Bun.spawn(["bun", "services/vault/src/cli/admin-token.ts", ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DATABASE_URL: stack.databaseUrl,
      SECRETS_DATA_DIR: stack.tempDir("cli-"),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`admin:token ${args.join(" ")} failed: ${err}`);
  return out;
}

describe("an admin over HTTP", () => {
  it("takes a service from registration to its secret", async () => {
    const bearer = http.as({ token: bootstrapToken });
    expect((await http.send("GET", "/healthz")).json).toEqual({ status: "ok" });

    expect((await grpc.registerToken("orders", serviceToken, "2.1.0")).ok).toBe(true);
    const pending = await grpc.getSecret("ORDERS_DB_PASSWORD", serviceToken, {
      description: "Orders DB password",
    });
    expect(pending).toMatchObject({ code: "PERMISSION_DENIED", reason: "TOKEN_PENDING_APPROVAL" });

    const tokens = await bearer.listServiceTokens("pending");
    expect(tokens.status).toBe(200);
    const orders = tokens.json.serviceTokens.find((t: { serviceName: string }) => t.serviceName === "orders");
    expect(orders).toMatchObject({
      serviceVersion: "2.1.0",
      status: "pending",
      inheritedAccessRequests: 0,
      approvedBy: null,
    });
    const approved = await bearer.approveToken(orders.id);
    expect(approved.json.serviceToken).toMatchObject({ status: "approved", approvedBy: "root" });

    const missing = await grpc.getSecret("ORDERS_DB_PASSWORD", serviceToken, {
      description: "Orders DB password",
    });
    expect(missing).toMatchObject({ code: "NOT_FOUND", reason: "SECRET_STUB_CREATED" });
    const stubs = await bearer.listSecrets({ missing: "true" });
    expect(stubs.json.secrets).toEqual([
      expect.objectContaining({
        name: "ORDERS_DB_PASSWORD",
        isStub: true,
        hasValue: false,
        requestedBy: ["orders"],
      }),
    ]);
    const set = await bearer.putSecret({ name: "ORDERS_DB_PASSWORD", value: secretValue });
    expect(set.status).toBe(200);
    expect(set.json.secret).toMatchObject({
      name: "ORDERS_DB_PASSWORD",
      hasValue: true,
      description: "Orders DB password",
    });
    expect(set.text).not.toContain(secretValue);

    // The rest through the dashboard's session cookie.
    const { cookie, response: login } = await http.signIn(bootstrapToken);
    expect(login.status).toBe(200);
    expect(login.json.admin).toEqual({ name: "root" });
    expect(login.headers.getSetCookie()[0]).toMatch(
      /^secrets_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
    );
    const dashboard = http.as({ cookie });
    expect((await dashboard.session()).json.admin).toEqual({ name: "root" });
    const requests = await dashboard.listAccessRequests("pending");
    const request = requests.json.accessRequests.find(
      (r: { secretName: string }) => r.secretName === "ORDERS_DB_PASSWORD",
    );
    expect(request).toMatchObject({ serviceName: "orders", status: "pending" });
    const forged = await http.send("POST", `/access-requests/${request.id}/approve`, {
      credential: { cookie },
      headers: { origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    const granted = await dashboard.approveAccess(request.id);
    expect(granted.json.accessRequest).toMatchObject({ status: "granted", grantedBy: "root" });

    const got = await grpc.getSecret("ORDERS_DB_PASSWORD", serviceToken);
    expect(got).toMatchObject({ ok: true, response: { value: secretValue } });

    // Both decisions reached the audit trail attributed to the admin, with the HTTP request's id.
    const requestIds = [approved.headers.get("x-request-id"), granted.headers.get("x-request-id")];
    let audited: { event: string; actor: string; ipAddress: string; userAgent: string }[] = [];
    for (let attempt = 0; attempt < 50 && audited.length < 2; attempt++) {
      const events = await readAuditStream(stack.natsUrl, stack.namespace);
      audited = events.map((e) => e.event).filter((e) => requestIds.includes(e.requestId));
      if (audited.length < 2) await Bun.sleep(100);
    }
    expect(audited.map((e) => [e.event, e.actor, e.ipAddress])).toEqual([
      ["token.approve", "root", "127.0.0.1"],
      ["access.approve", "root", "127.0.0.1"],
    ]);

    expect((await dashboard.signOut()).status).toBe(204);
    expect((await dashboard.session()).status).toBe(401);
  });

  it("authenticates admin tokens made by the CLI until they are revoked", async () => {
    const created = await adminTokenCli("create", "--name", "alice");
    const token = /ssadm_[A-Za-z0-9_-]{43}/.exec(created)?.[0] ?? "";
    const alice = http.as({ token });
    // The bootstrap token (root) is still active in this stack, and every session says so.
    expect((await alice.session()).json).toEqual({
      admin: { name: "alice" },
      expiresAt: null,
      bootstrapTokenActive: true,
    });
    const put = await alice.putSecret({ name: "ALICE_MADE", description: "made by alice" });
    expect(put.status).toBe(201);
    expect(put.json.secret.createdBy).toBe("alice");

    await adminTokenCli("revoke", "--name", "alice");
    let status = 200;
    for (let attempt = 0; attempt < 40 && status !== 401; attempt++) {
      await Bun.sleep(100);
      status = (await alice.listSecrets()).status;
    }
    expect(status).toBe(401);
    const lastCharacter = bootstrapToken.at(-1) === "A" ? "B" : "A";
    const altered = `${bootstrapToken.slice(0, -1)}${lastCharacter}`;
    expect((await http.as({ token: altered }).listSecrets()).status).toBe(401);
  });

  it("answers 503 while the vault is down, and the admin API stops cleanly on SIGTERM", async () => {
    await vault.kill();
    const down = await http.as({ token: bootstrapToken }).listSecrets();
    expect(down.status).toBe(503);
    expect((await http.send("GET", "/healthz")).status).toBe(503);
    expect(await adminApi.process.stop()).toBe(0);
    expect(adminApi.process.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it("never logs a value or a token", () => {
    const lines = stack.logLines();
    expect(lines.some((line) => line.includes('"service":"admin-api"'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(secretValue);
      expect(line).not.toContain(bootstrapToken);
      expect(line).not.toContain(serviceToken);
    }
  });
});
