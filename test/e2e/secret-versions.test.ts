/**
 * Secret versions through the admin API, on real processes: listing (metadata only), rollback as a new
 * version that a service then reads over gRPC, and a check-and-set conflict that keeps the other admin's
 * change.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const serviceToken = newServiceToken();
let stack: Stack;
let http: ReturnType<typeof adminHttpClient>;
let grpc: ReturnType<typeof secretsClient>;
const admin = { credential: { token: adminToken } };

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const gateway = await stack.startGateway();
  http = adminHttpClient((await stack.startAdminApi()).url);
  grpc = secretsClient(gateway.address, gateway.caFile);
  await grpc.registerToken("payments", serviceToken);
  const pending = await http.send("GET", "/service-tokens?status=pending", admin);
  await http.send("POST", `/service-tokens/${pending.json.serviceTokens[0].id}/approve`, admin);
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

describe("secret versions over the admin API", () => {
  it("lists, rolls back, and refuses a stale check-and-set", async () => {
    const put = (value: string, expectedVersion?: number) =>
      http.send("POST", "/secrets", { ...admin, body: { name: "PAYMENT_KEY", value, expectedVersion } });
    const first = await put("pk_one");
    const id = first.json.secret.id;
    expect((await put("pk_two", 1)).json.secret.version).toBe(2);
    expect((await put("pk_three", 2)).json.secret.version).toBe(3);
    await http.send("POST", "/access-requests", {
      ...admin,
      body: { secretName: "PAYMENT_KEY", serviceName: "payments" },
    });
    expect(await grpc.getSecret("PAYMENT_KEY", serviceToken)).toMatchObject({
      response: { value: "pk_three" },
    });

    const listed = await http.send("GET", `/secrets/${id}/versions`, admin);
    expect(listed.status).toBe(200);
    expect(
      listed.json.versions.map((v: { version: number; current: boolean }) => [v.version, v.current]),
    ).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
    expect(listed.text).not.toMatch(/pk_one|pk_two|pk_three/);

    const rolled = await http.send("POST", `/secrets/${id}/rollback`, {
      ...admin,
      body: { version: 1, expectedVersion: 3 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.json.secret.version).toBe(4);
    expect(await grpc.getSecret("PAYMENT_KEY", serviceToken)).toMatchObject({
      response: { value: "pk_one" },
    });

    const stale = await put("pk_stale", 3);
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("CONFLICT");
    expect(await grpc.getSecret("PAYMENT_KEY", serviceToken)).toMatchObject({
      response: { value: "pk_one" },
    });
    const staleRollback = await http.send("POST", `/secrets/${id}/rollback`, {
      ...admin,
      body: { version: 2, expectedVersion: 3 },
    });
    expect(staleRollback.status).toBe(409);
    for (const response of http.recorded)
      expect(JSON.stringify(response)).not.toMatch(/pk_one|pk_two|pk_three|pk_stale/);
  });
});
