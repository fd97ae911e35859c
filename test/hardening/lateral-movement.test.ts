/**
 * Lateral movement: a compromised service, with its own approved token, tries to reach another service's
 * secret over gRPC. Asking gets it nothing but a pending access request an admin sees; watching reports
 * nothing; the other service's token hash (all that crosses the bus, and all the database holds) is not a
 * token the gateway accepts; and once its token is revoked it gets nothing at all.
 */
import { readFileSync } from "node:fs";
import { credentials, Metadata } from "@grpc/grpc-js";
import { forwardToken } from "@secrets/bus";
import { AccessStatus, ServiceTokenStatus } from "@secrets/proto/admin";
import { type SecretChange, SecretsServiceClient } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminBusClient, adminBusClient } from "../support/admin-bus-client.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { provisionService } from "../support/provision.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

let stack: Stack;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let grpc: ReturnType<typeof secretsClient>;
let admin: AdminBusClient;
const payments = { name: "payments", token: newServiceToken() };
const intruder = { name: "newsletter", token: newServiceToken() };
const paymentsKey = `payments-key-${crypto.randomUUID()}`;

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault();
  gateway = await stack.startGateway();
  grpc = secretsClient(gateway.address, gateway.caFile);
  admin = adminBusClient(stack.bus);
  await provisionService(grpc, admin, payments, { PAYMENTS_KEY: paymentsKey });
  await provisionService(grpc, admin, intruder, { NEWSLETTER_KEY: "newsletter-key" });
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

/** The names a WatchSecrets stream reports within a moment. */
async function watched(names: string[], token: string): Promise<string[]> {
  const client = new SecretsServiceClient(
    gateway.address,
    credentials.createSsl(readFileSync(gateway.caFile)),
  );
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  const call = client.watchSecrets({ secretNames: names, token: "" }, metadata);
  const reported: string[] = [];
  call.on("data", (change: SecretChange) => reported.push(change.secretName));
  call.on("error", () => {});
  await Bun.sleep(500);
  call.cancel();
  client.close();
  return reported;
}

describe("a compromised service", () => {
  it("cannot read another service's secret: it only leaves a pending request for an admin to see", async () => {
    const asked = await grpc.getSecret("PAYMENTS_KEY", intruder.token);
    expect(asked).toMatchObject({ ok: false, code: "PERMISSION_DENIED", reason: "ACCESS_PENDING" });
    expect(JSON.stringify(asked)).not.toContain(paymentsKey);
    const requests = (await admin.listAccessRequests(AccessStatus.PENDING)).accessRequests;
    expect(requests.map((r) => [r.secretName, r.serviceName])).toEqual([["PAYMENTS_KEY", intruder.name]]);
    // Asking together with its own secret changes nothing.
    expect(await grpc.getSecret("NEWSLETTER_KEY", intruder.token)).toMatchObject({ ok: true });
  });

  it("is told nothing about another service's secret when it watches it", async () => {
    expect(await watched(["PAYMENTS_KEY", "NEWSLETTER_KEY"], intruder.token)).toEqual(["NEWSLETTER_KEY"]);
  });

  it("cannot use what the bus and the database hold of another service's token", async () => {
    for (const stolen of [
      forwardToken(payments.token),
      forwardToken(payments.token).slice("sha256_".length),
    ]) {
      const outcome = await grpc.getSecret("PAYMENTS_KEY", stolen);
      expect(outcome).toMatchObject({ ok: false, code: "UNAUTHENTICATED" });
    }
    expect(await grpc.getSecret("PAYMENTS_KEY", payments.token)).toMatchObject({
      response: { value: paymentsKey },
    });
  });

  it("gets nothing once its token is revoked", async () => {
    const token = (await admin.listServiceTokens(ServiceTokenStatus.APPROVED)).serviceTokens.find(
      (t) => t.serviceName === intruder.name,
    );
    await admin.revokeToken(token?.id ?? "");
    const refused = await grpc.getSecret("NEWSLETTER_KEY", intruder.token);
    expect(refused).toMatchObject({ ok: false, code: "PERMISSION_DENIED", reason: "TOKEN_DENIED" });
    expect(await watched(["NEWSLETTER_KEY"], intruder.token)).toEqual([]);
  });
});
