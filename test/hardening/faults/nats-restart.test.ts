/**
 * Fault: the NATS server restarts while services read secrets over gRPC and an admin browses over HTTP.
 * Every process (vault, gateway, admin API, audit shipper) reconnects by itself; calls made during the gap
 * fail cleanly (gRPC UNAVAILABLE, HTTP 503 with the API's error body) within their deadline; afterwards
 * everything serves again and the audit trail of the new calls reaches Loki. Runs on a private
 * nats-server, never the shared one.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../../support/admin-bus-client.ts";
import { adminHttpClient, type HttpOutcome } from "../../support/admin-http.ts";
import { type CallOutcome, secretsClient } from "../../support/grpc-client.ts";
import { startLoad, waitUntil } from "../../support/load.ts";
import { type LokiReceiver, startLokiReceiver } from "../../support/loki-receiver.ts";
import { type NatsServerHandle, startNatsServer } from "../../support/nats-server.ts";
import type { ServiceProcess } from "../../support/processes.ts";
import { provisionService } from "../../support/provision.ts";
import { createStack, type Stack } from "../../support/stack.ts";
import { newServiceToken } from "../../support/tokens.ts";

let nats: NatsServerHandle;
let stack: Stack;
let loki: LokiReceiver;
const processes: ServiceProcess[] = [];
let grpc: ReturnType<typeof secretsClient>;
let http: ReturnType<typeof adminHttpClient>;
const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const service = { name: "billing", token: newServiceToken() };
const value = `billing-key-${crypto.randomUUID()}`;
const deadlineMs = 2_000;

beforeAll(async () => {
  nats = await startNatsServer();
  stack = await createStack({ natsUrl: nats.url });
  loki = await startLokiReceiver();
  const vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const gateway = await stack.startGateway();
  const adminApi = await stack.startAdminApi({ ADMIN_VAULT_TIMEOUT_MS: String(deadlineMs) });
  const audit = await stack.startAudit({ LOKI_URL: loki.url, AUDIT_RETRY_MAX_MS: "1000" });
  processes.push(vault, gateway.process, adminApi.process, audit);
  grpc = secretsClient(gateway.address, gateway.caFile);
  http = adminHttpClient(adminApi.url);
  await provisionService(grpc, adminBusClient(stack.bus, adminToken), service, { BILLING_API_KEY: value });
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
  await loki?.stop();
  await nats?.dispose();
});

describe("NATS restarted under load", () => {
  it("every service reconnects by itself; calls during the gap fail cleanly", {
    timeout: 90_000,
  }, async () => {
    const credential = { token: adminToken };
    const grpcLoad = startLoad({ workers: 4, maxDurationMs: 60_000, pauseMs: 10 }, () =>
      grpc.getSecret("BILLING_API_KEY", service.token, { deadlineMs }),
    );
    const httpLoad = startLoad({ workers: 2, maxDurationMs: 60_000, pauseMs: 10 }, () =>
      http.send("GET", "/secrets?limit=10", { credential }),
    );
    await grpcLoad.waitForCalls(50);
    await httpLoad.waitForCalls(20);

    const stoppedAt = Date.now();
    await nats.stop();
    await Bun.sleep(2_500);
    await nats.restart();
    const restartedAt = Date.now();

    const grpcOk = (c: { result?: CallOutcome<unknown> }) => c.result?.ok === true;
    const httpOk = (c: { result?: HttpOutcome }) => c.result?.status === 200;
    await waitUntil(
      () =>
        grpcLoad.between(Date.now() - 500).filter(grpcOk).length >= 20 &&
        httpLoad.between(Date.now() - 500).filter(httpOk).length >= 5,
      "gRPC and HTTP to serve again",
    );
    const recoveredAt = Date.now();
    const grpcCalls = await grpcLoad.stop();
    const httpCalls = await httpLoad.stop();

    // Every call ended, within its deadline, with an answer or a clean refusal.
    expect([...grpcCalls, ...httpCalls].every((c) => c.error === undefined)).toBe(true);
    expect(Math.max(...grpcCalls.map((c) => c.durationMs))).toBeLessThan(deadlineMs + 500);
    expect(Math.max(...httpCalls.map((c) => c.durationMs))).toBeLessThan(deadlineMs + 1_000);
    const grpcOutcomes = grpcCalls.map((c) => c.result as CallOutcome<{ value: string }>);
    expect(new Set(grpcOutcomes.map((o) => o.code))).toEqual(new Set(["OK", "UNAVAILABLE"]));
    for (const outcome of grpcOutcomes) if (outcome.ok) expect(outcome.response?.value).toBe(value);
    const httpOutcomes = httpCalls.map((c) => c.result as HttpOutcome);
    expect(new Set(httpOutcomes.map((o) => o.status))).toEqual(new Set([200, 503]));
    for (const failed of httpOutcomes.filter((o) => o.status === 503)) {
      expect(failed.json.error).toMatchObject({
        code: expect.stringMatching(/^(UNAVAILABLE|TIMEOUT|NO_RESPONDERS)$/),
      });
      expect(failed.json.error.message).toMatch(/vault/i);
    }
    // The gap was seen: calls made while the server was away failed (a call waits for the reconnection,
    // its request buffered by the client, until its deadline runs out).
    const gap = grpcLoad.between(stoppedAt + 200, restartedAt).map((c) => c.result as CallOutcome<unknown>);
    expect(gap.filter((o) => o.code === "UNAVAILABLE").length).toBeGreaterThanOrEqual(2);
    const httpGap = httpLoad.between(stoppedAt + 200, restartedAt).map((c) => c.result as HttpOutcome);
    expect(httpGap.filter((o) => o.status === 503).length).toBeGreaterThanOrEqual(1);
    expect(recoveredAt - restartedAt).toBeLessThan(20_000);

    // No process restarted; each one reconnected by itself.
    for (const process of processes) {
      expect(
        await Promise.race([process.exited.then(() => "exited"), Bun.sleep(0).then(() => "running")]),
      ).toBe("running");
      await process.waitForLog("reconnected to NATS", 10_000);
    }

    // The audit shipper works again: the events of calls made after the restart reach Loki.
    const after = grpcLoad
      .between(recoveredAt - 500)
      .map((c) => c.result as CallOutcome<unknown>)
      .filter((o) => o.ok)
      .map((o) => o.requestId);
    expect(after.length).toBeGreaterThan(0);
    await waitUntil(() => {
      const shipped = new Set(loki.entries().map((e) => JSON.parse(e.line).request_id));
      return after.every((id) => shipped.has(id));
    }, "the audit events of calls after the restart to reach Loki");
  });
});
