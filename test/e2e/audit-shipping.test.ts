/**
 * The audit trail reaches Loki: the vault, a gateway and the audit service as real processes on real
 * NATS and PostgreSQL, a Loki stand-in in this process, and GetSecret traffic over gRPC. Every event the
 * traffic produced must arrive exactly once, through a Loki outage and through a SIGKILL of the shipper
 * in the middle of a backlog (the backlog grows while Loki is down and drains afterwards); queries through
 * the bus return the right events newest first. The stand-in behaves as Loki 3.5 (as in
 * docker-compose.yml) with its default limits; the last test ships to one behaving as 2.9 and queries it.
 */
import { auditOperations, request } from "@secrets/bus";
import { ServiceTokenStatus } from "@secrets/proto/admin";
import { type AuditEvent, AuditQueryRequest } from "@secrets/proto/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminBusClient, adminBusClient } from "../support/admin-bus-client.ts";
import { adminHttpClient } from "../support/admin-http.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { type LokiReceiver, LokiVersion, startLokiReceiver } from "../support/loki-receiver.ts";
import type { ServiceProcess } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newAdminToken, newServiceToken } from "../support/tokens.ts";

let stack: Stack;
let grpc: ReturnType<typeof secretsClient>;
let admin: AdminBusClient;
let loki: LokiReceiver;
let audit: ServiceProcess;
let adminHttp: ReturnType<typeof adminHttpClient>;
const adminToken = newAdminToken();

/** Short lease and ack wait so a restarted shipper takes over within seconds. */
const auditEnv = () => ({
  LOKI_URL: loki.url,
  AUDIT_ENV: "e2e",
  AUDIT_BATCH_MAX: "20",
  AUDIT_ACK_WAIT_MS: "2000",
  AUDIT_LEASE_TTL_MS: "3000",
  AUDIT_RETRY_BASE_MS: "100",
  AUDIT_RETRY_MAX_MS: "1000",
});

interface Service {
  name: string;
  secret: string;
  token: string;
}
const orders: Service = { name: "orders", secret: "ORDERS_DB_URL", token: newServiceToken() };
const billing: Service = { name: "billing", secret: "BILLING_API_KEY", token: newServiceToken() };

/** Registers the service, approves its token and its access to its secret. */
async function grant(service: Service): Promise<void> {
  expect(await grpc.registerToken(service.name, service.token)).toMatchObject({ ok: true });
  const token = (await admin.listServiceTokens(ServiceTokenStatus.PENDING)).serviceTokens.find(
    (t) => t.serviceName === service.name,
  );
  await admin.approveToken(token?.id ?? "");
  await admin.putSecret(service.secret, { value: `value-of-${service.secret}-${crypto.randomUUID()}` });
  expect(await grpc.getSecret(service.secret, service.token)).toMatchObject({ reason: "ACCESS_PENDING" });
  const access = (await admin.listAccessRequests()).accessRequests.find(
    (r) => r.secretName === service.secret && r.serviceName === service.name,
  );
  await admin.approveAccess(access?.id ?? "");
  expect(await grpc.getSecret(service.secret, service.token)).toMatchObject({ ok: true });
}

/** Sequential GetSecret calls; resolves with the request ids (each names one audit event). */
async function traffic(service: Service, count: number, pauseMs = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = await grpc.getSecret(service.secret, service.token);
    expect(outcome).toMatchObject({ ok: true });
    ids.push(outcome.requestId);
    if (pauseMs > 0) await Bun.sleep(pauseMs);
  }
  return ids;
}

/** The audit lines the stand-in holds, parsed, in the order it stored them. */
const shippedLines = () => loki.entries().map((entry) => JSON.parse(entry.line) as Record<string, unknown>);

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Every request id has arrived; returns the lines for them. */
async function allShipped(requestIds: readonly string[]): Promise<Record<string, unknown>[]> {
  const wanted = new Set(requestIds);
  const mine = () => shippedLines().filter((line) => wanted.has(String(line.request_id)));
  await waitUntil(
    () => new Set(mine().map((line) => line.request_id)).size === wanted.size,
    "every event in Loki",
  );
  return mine();
}

/** Each request id names exactly one line, and no event id appears twice in what Loki holds. */
function expectExactlyOnce(lines: Record<string, unknown>[], requestIds: readonly string[]): void {
  expect(lines.map((line) => line.request_id).sort()).toEqual([...requestIds].sort());
  const eventIds = shippedLines().map((line) => line.event_id);
  expect(new Set(eventIds).size).toBe(eventIds.length);
}

/** The stand-in stored the lines oldest first: the shipper never skipped ahead. */
function expectTimeOrder(lines: Record<string, unknown>[]): void {
  const times = lines.map((line) => Date.parse(String(line.timestamp)));
  expect(times).toEqual([...times].sort((a, b) => a - b));
}

beforeAll(async () => {
  stack = await createStack();
  loki = await startLokiReceiver({ version: LokiVersion.v3_5 });
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const gateway = await stack.startGateway();
  adminHttp = adminHttpClient((await stack.startAdminApi()).url);
  grpc = secretsClient(gateway.address, gateway.caFile);
  admin = adminBusClient(stack.bus, adminToken);
  audit = await stack.startAudit(auditEnv());
  await grant(orders);
  await grant(billing);
});

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
  await loki?.stop();
});

describe("audit shipping to Loki", () => {
  it("delivers every event published while Loki was down, each exactly once, oldest first", async () => {
    const requestIds: string[] = [];
    let keepGoing = true;
    let duringOutage = 0;
    const steady = (async () => {
      for (let i = 0; i < 600 && keepGoing; i++) {
        const ids = await traffic(orders, 1, 20);
        requestIds.push(...ids);
        if (!loki.running) duringOutage += 1;
      }
    })();
    await waitUntil(() => shippedLines().length > 10, "the first events in Loki", 20_000);
    await loki.stop();
    // The backlog grows while Loki is away: the events wait in the stream, undelivered.
    const backlog: number[] = [];
    for (const end = Date.now() + 3_000; Date.now() < end; ) {
      const status = await request(stack.bus, auditOperations.status, {}, { timeoutMs: 2_000 });
      backlog.push(status.pending + status.inFlight);
      await Bun.sleep(250);
    }
    await loki.restart();
    await Bun.sleep(1_000);
    keepGoing = false;
    await steady;

    expect(duringOutage).toBeGreaterThan(10);
    expect(Math.max(...backlog)).toBeGreaterThan(10);
    expect(backlog.at(-1)).toBeGreaterThan(backlog[0] ?? 0);
    const lines = await allShipped(requestIds);
    expectExactlyOnce(lines, requestIds);
    expectTimeOrder(lines);
    expect(lines.every((line) => line.event === "secret.get" && line.service_name === "orders")).toBe(true);
    expect(audit.lines.some((line) => line.includes("audit sink push failed"))).toBe(true);
    await waitUntil(() => audit.lines.some((line) => line.includes("audit sink recovered")), "recovery log");
    // ...and drains afterwards.
    await waitUntil(async () => {
      const status = await request(stack.bus, auditOperations.status, {}, { timeoutMs: 2_000 });
      return status.pending === 0 && status.inFlight === 0;
    }, "the backlog to drain");
    const status = await request(stack.bus, auditOperations.status, {}, { timeoutMs: 2_000 });
    expect(status).toMatchObject({ active: true, sink: "loki", consecutiveFailures: 0, parked: 0 });
    expect(status.lastSuccessMs).toBeGreaterThan(0);
  });

  it("loses nothing when the shipper is killed in the middle of a backlog", async () => {
    await loki.stop();
    const requestIds = await traffic(billing, 150);
    loki.pushDelayMs = 150;
    await loki.restart();
    const arrivedBeforeKill = () => {
      const wanted = new Set(requestIds);
      return shippedLines().filter((line) => wanted.has(String(line.request_id))).length;
    };
    await waitUntil(() => arrivedBeforeKill() >= 20, "the first shipped batch");
    await audit.kill();
    const atKill = arrivedBeforeKill();
    expect(atKill).toBeLessThan(requestIds.length);
    loki.pushDelayMs = 0;

    audit = await stack.startAudit(auditEnv());
    const lines = await allShipped(requestIds);
    expectExactlyOnce(lines, requestIds);
    expectTimeOrder(lines);
  });

  it("answers queries by secret and by service through the bus, newest first", async () => {
    await traffic(orders, 3);
    await traffic(billing, 3);
    await waitUntil(async () => {
      const status = await request(stack.bus, auditOperations.status, {}, { timeoutMs: 2_000 });
      return status.pending === 0 && status.inFlight === 0;
    }, "an empty backlog");
    const query = (fields: Partial<AuditQueryRequest>) =>
      request(stack.bus, auditOperations.query, AuditQueryRequest.fromPartial({ limit: 1000, ...fields }), {
        timeoutMs: 5_000,
      });
    const newestFirst = (lines: Record<string, unknown>[]) =>
      lines
        .sort((a, b) => Date.parse(String(b.timestamp)) - Date.parse(String(a.timestamp)))
        .map((line) => line.event_id);
    const isNewestFirst = (events: AuditEvent[]) =>
      events.every((event, i) => i === 0 || (events[i - 1]?.timestampMs ?? 0) >= event.timestampMs);

    const bySecret = (await query({ secret: billing.secret })).events;
    expect(bySecret.length).toBeGreaterThan(150);
    expect(bySecret.every((event) => event.secretName === billing.secret)).toBe(true);
    expect(isNewestFirst(bySecret)).toBe(true);
    expect(new Set(bySecret.map((e) => e.id))).toEqual(
      new Set(newestFirst(shippedLines().filter((line) => line.secret_name === billing.secret))),
    );

    const secretId = (await admin.listSecrets(billing.secret)).secrets[0]?.id ?? "";
    const byId = (await query({ secret: secretId })).events;
    expect(byId.map((e) => e.id)).toEqual(bySecret.filter((e) => e.secretId === secretId).map((e) => e.id));

    const byService = (await query({ serviceName: billing.name })).events;
    expect(byService.every((event) => event.serviceName === billing.name)).toBe(true);
    expect(byService.some((event) => event.event === "token.register")).toBe(true);
    expect(isNewestFirst(byService)).toBe(true);
    expect(new Set(byService.map((e) => e.id))).toEqual(
      new Set(
        shippedLines()
          .filter((line) => line.service_name === billing.name)
          .map((l) => l.event_id),
      ),
    );

    const latestOrders = (await query({ serviceName: orders.name, event: "secret.get", limit: 3 })).events;
    expect(latestOrders).toHaveLength(3);
    expect(latestOrders.map((e) => e.id)).toEqual(
      newestFirst(
        shippedLines().filter((line) => line.service_name === orders.name && line.event === "secret.get"),
      ).slice(0, 3),
    );
    expect(latestOrders[0]).toMatchObject({ secretName: orders.secret, success: true, level: "info" });
  });

  it("serves the trail over HTTP: GET /audit filtered by secret and by service", async () => {
    const credential = { token: adminToken };
    const bySecret = await adminHttp.send("GET", `/audit?secret=${orders.secret}&limit=1000`, { credential });
    expect(bySecret.status).toBe(200);
    const secretEvents = bySecret.json.events as {
      secretName: string;
      event: string;
      timestamp: string;
      id: string;
    }[];
    expect(secretEvents.length).toBeGreaterThan(10);
    expect(secretEvents.every((e) => e.secretName === orders.secret)).toBe(true);
    expect(secretEvents.map((e) => e.timestamp)).toEqual(
      [...secretEvents.map((e) => e.timestamp)].sort().reverse(),
    );
    expect(new Set(secretEvents.map((e) => e.id))).toEqual(
      new Set(
        shippedLines()
          .filter((line) => line.secret_name === orders.secret)
          .map((line) => line.event_id),
      ),
    );

    const byService = await adminHttp.send(
      "GET",
      `/audit?service=${billing.name}&outcome=success&limit=1000`,
      {
        credential,
      },
    );
    const serviceEvents = byService.json.events as { serviceName: string; success: boolean; event: string }[];
    expect(serviceEvents.length).toBeGreaterThan(150);
    expect(serviceEvents.every((e) => e.serviceName === billing.name && e.success)).toBe(true);
    expect([...new Set(serviceEvents.map((e) => e.event))]).toEqual(
      expect.arrayContaining(["secret.get", "token.register", "token.approve", "access.approve"]),
    );
    expect((await adminHttp.send("GET", "/audit")).status).toBe(401);
  });

  it("finds a service's events with GET /audit?service= on Loki 2.9 as on 3.5", async () => {
    // Loki 3.5 (above) labels our streams service_name="secrets-service"; 2.9 does not: both must work.
    const loki29 = await startLokiReceiver({ version: LokiVersion.v2_9 });
    try {
      await audit.stop();
      audit = await stack.startAudit({ ...auditEnv(), LOKI_URL: loki29.url });
      const requestIds = await traffic(orders, 5);
      const wanted = new Set(requestIds);
      await waitUntil(
        () => loki29.entries().filter((e) => wanted.has(String(JSON.parse(e.line).request_id))).length === 5,
        "the events in the 2.9 stand-in",
      );
      expect(loki29.entries()[0]?.labels).not.toHaveProperty("service_name");
      const response = await adminHttp.send("GET", `/audit?service=${orders.name}&limit=1000`, {
        credential: { token: adminToken },
      });
      expect(response.status).toBe(200);
      const events = response.json.events as { serviceName: string; requestId: string }[];
      expect(events.every((e) => e.serviceName === orders.name)).toBe(true);
      expect(events.filter((e) => wanted.has(e.requestId))).toHaveLength(5);
    } finally {
      await loki29.stop();
    }
  });

  it("never logs a secret value or a token", () => {
    for (const line of stack.logLines()) {
      expect(line).not.toContain("value-of-");
      expect(line).not.toContain(orders.token);
      expect(line).not.toContain(billing.token);
    }
  });
});
