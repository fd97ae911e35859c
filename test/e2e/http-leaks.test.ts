/**
 * Secret values are write-only over HTTP: a full end-to-end run (vault, gateway and admin API as real
 * processes) that records EVERY response of the admin API (status line, every header, body) over every
 * documented route, failures included, and finds no secret value, no service token and no admin token in
 * any of them, nor in the admin requests the bus carried. Every one of those responses also keeps the
 * OpenAPI document the API serves (`support/openapi-contract.ts`): real vault answers, not a fake's.
 */
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminHttpClient, adminHttpClient } from "../support/admin-http.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { contractProblems } from "../support/openapi-contract.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

let stack: Stack;
let grpc: ReturnType<typeof secretsClient>;
let http: AdminHttpClient;
let nats: NatsConnection;
const busPayloads: Uint8Array[] = [];

const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const serviceToken = newServiceToken();
const otherServiceToken = newServiceToken();
const canary = () => `canary-${randomBytes(12).toString("hex")}`;
const values = {
  bearer: canary(),
  cookie: canary(),
  updated: canary(),
  refused: canary(),
  malformed: canary(),
};

beforeAll(async () => {
  stack = await createStack();
  nats = await connect({ servers: stack.natsUrl });
  const subscription = nats.subscribe(`${stack.namespace}.v1.vault.admin.>`);
  void (async () => {
    for await (const message of subscription) busPayloads.push(message.data);
  })();
  await nats.flush();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const gateway = await stack.startGateway();
  const adminApi = await stack.startAdminApi();
  await stack.startAudit({
    AUDIT_SINK: "file",
    AUDIT_FILE_PATH: `${stack.tempDir("leaks-audit-")}/journal.jsonl`,
  });
  grpc = secretsClient(gateway.address, gateway.caFile);
  http = adminHttpClient(adminApi.url);
});

afterAll(async () => {
  grpc?.close();
  await nats?.close();
  await stack?.dispose();
});

describe("the admin API's responses", () => {
  it("never carry a secret value, a service token or an admin token", async () => {
    const bearer = http.as({ token: adminToken });
    await grpc.registerToken("billing", serviceToken, "1.0.0");
    await grpc.registerToken("reports", otherServiceToken, "1.0.0");
    const tokens = (await bearer.listServiceTokens()).json.serviceTokens as {
      id: string;
      serviceName: string;
    }[];
    const billing = tokens.find((t) => t.serviceName === "billing")?.id ?? "";
    const reports = tokens.find((t) => t.serviceName === "reports")?.id ?? "";
    await bearer.approveToken(billing);
    await bearer.denyToken(reports);
    await bearer.revokeToken(reports);
    await bearer.approveToken(reports); // 409: a revoked token stays revoked

    await grpc.getSecret("BILLING_KEY", serviceToken, { description: "Billing API key" });
    await bearer.putSecret({ name: "BILLING_KEY", value: values.bearer });
    await bearer.putSecret({ name: "bad name", value: values.refused });
    await bearer.putSecret({ name: "NUL_VALUE", value: `${values.refused}\u0000` });
    await http.send("POST", "/secrets", {
      credential: { token: adminToken },
      rawBody: `{"name":"X","value":"${values.malformed}"`,
    });
    await http.send("POST", "/secrets", {
      credential: { token: adminToken },
      body: { name: "HUGE", value: `${values.refused}${"x".repeat(300 * 1024)}` },
    });
    await bearer.listSecrets();
    await bearer.listSecrets({ q: "billing", missing: "false", limit: "10" });
    const admin = { credential: { token: adminToken } };
    const billingId = ((await bearer.listSecrets({ q: "BILLING_KEY" })).json.secrets[0] as { id: string }).id;
    await bearer.putSecret({ name: "BILLING_KEY", value: values.updated });
    await http.send("GET", `/secrets/${billingId}/versions`, admin);
    await http.send("POST", `/secrets/${billingId}/rollback`, { ...admin, body: { version: 1 } });
    await http.send("GET", "/keys", admin);
    await http.send("POST", "/keys/rotate", admin);
    await http.send("GET", "/audit?secret=BILLING_KEY&limit=50", admin);
    await http.send("GET", "/audit/verify", admin);
    await http.send("GET", "/audit/signing-key", admin);
    const requests = (await bearer.listAccessRequests("pending")).json.accessRequests as { id: string }[];
    await bearer.denyAccess(requests[0]?.id ?? "");
    await bearer.approveAccess(requests[0]?.id ?? "");
    expect(await grpc.getSecret("BILLING_KEY", serviceToken)).toMatchObject({
      response: { value: values.bearer },
    });

    const { cookie } = await http.signIn(adminToken);
    const dashboard = http.as({ cookie });
    await dashboard.session();
    await dashboard.putSecret({ name: "REPORTS_KEY", description: "Reports", value: values.cookie });
    await dashboard.putSecret({ name: "REPORTS_KEY", value: values.updated });
    await dashboard.grantAccess("REPORTS_KEY", "billing");
    const secrets = (await dashboard.listSecrets()).json.secrets as { id: string; name: string }[];
    expect(await grpc.getSecret("REPORTS_KEY", serviceToken)).toMatchObject({
      response: { value: values.updated },
    });
    await dashboard.deleteSecret(secrets.find((s) => s.name === "REPORTS_KEY")?.id ?? "");
    await dashboard.signOut();

    await http.signIn(`${adminToken}x`);
    await http.as({ token: `${adminToken}x` }).listSecrets();
    await http.as({ cookie }).session();
    await http.send("GET", "/healthz");
    await http.send("GET", "/swagger");
    const doc = await http.send("GET", "/swagger/json");
    await http.send("GET", `/no-such-route/${adminToken}`);

    // Every documented route was exercised.
    const routes = Object.entries(doc.json.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({
        method: method.toUpperCase(),
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/?]+")}(\\?|$)`),
      })),
    );
    const exercised = routes.filter((r) =>
      http.recorded.some((x) => {
        const [method, path = ""] = x.request.split(" ");
        return method === r.method && r.pattern.test(path);
      }),
    );
    expect(exercised.length).toBe(routes.length);
    expect(new Set(http.recorded.map((r) => r.statusLine.split(" ")[1]))).toEqual(
      new Set(["200", "201", "202", "204", "400", "401", "404", "409", "413", "422"]),
    );

    const broken = http.recorded.flatMap((r) => {
      const [method = "", path = ""] = r.request.split(" ");
      const status = Number(r.statusLine.split(" ")[1]);
      return contractProblems(doc.json, {
        method,
        path,
        status,
        headers: Object.fromEntries(r.headers),
        text: r.body,
      });
    });
    expect(broken).toEqual([]);

    const everything = http.recordedText();
    expect(everything).toContain('"name":"BILLING_KEY"'); // the search looks at real content
    for (const value of Object.values(values)) expect(everything).not.toContain(value);
    expect(everything).not.toContain(serviceToken);
    expect(everything).not.toContain(otherServiceToken);
    expect(everything).not.toContain(adminToken.slice("ssadm_".length));

    expect(busPayloads.length).toBeGreaterThan(10);
    expect(busPayloads.some((p) => Buffer.from(p).includes("REPORTS_KEY"))).toBe(true);
    for (const payload of busPayloads) {
      const bytes = Buffer.from(payload);
      for (const value of Object.values(values)) expect(bytes.includes(value)).toBe(false);
      expect(bytes.includes(adminToken)).toBe(false);
      expect(bytes.includes(serviceToken)).toBe(false);
    }
    for (const line of stack.logLines()) {
      for (const value of Object.values(values)) expect(line).not.toContain(value);
      expect(line).not.toContain(adminToken);
    }
  });
});
