import { BusError, ErrorCode } from "@secrets/bus";
import type { ServiceTokenStatus } from "@secrets/proto/admin";
import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("every response", () => {
  it("carries the security headers and a UUIDv7 request id, also in error bodies", async () => {
    const h = createHarness();
    const secret = h.vault.seedSecret({ name: "X" });
    await h.call("GET", "/healthz");
    await h.call("GET", "/secrets", { token: h.adminToken });
    await h.call("DELETE", `/secrets/${secret.id}`, { token: h.adminToken });
    await h.call("GET", "/secrets");
    await h.call("GET", "/secrets?limit=0", { token: h.adminToken });
    await h.call("GET", "/nowhere");
    await h.call("GET", "/swagger");
    expect(h.exchanges.map((e) => e.status)).toEqual([200, 200, 204, 401, 422, 404, 200]);
    for (const exchange of h.exchanges) {
      expect(exchange.headers).toMatchObject({
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      });
      expect(exchange.headers["x-request-id"]).toMatch(uuidV7);
      if (exchange.status >= 400)
        expect(exchange.json.error.requestId).toBe(exchange.headers["x-request-id"]);
    }
    expect(new Set(h.exchanges.map((e) => e.headers["x-request-id"])).size).toBe(h.exchanges.length);
  });

  it("is logged as one JSON line: method, route, status, duration, request id, actor; no credential", async () => {
    const h = createHarness();
    const secret = h.vault.seedSecret({ name: "X" });
    const res = await h.call("DELETE", `/secrets/${secret.id}`, { token: h.adminToken });
    await h.call("GET", "/secrets", { token: "wrong" });
    const [deleted, refused] = await h.requestLogLines(2);
    expect(deleted).toMatchObject({
      level: "info",
      service: "admin-api",
      method: "DELETE",
      route: "/secrets/:id",
      status: 204,
      requestId: res.headers["x-request-id"],
      actor: "alice",
    });
    expect(deleted?.durationMs).toEqual(expect.any(Number));
    expect(refused).toMatchObject({ route: "/secrets", status: 401, actor: null });
    expect(h.logLines.join("\n")).not.toContain(h.adminToken);
  });
});

describe("malformed requests", () => {
  it("answer 404 for an unknown route or method", async () => {
    const h = createHarness();
    const res = await h.call("PUT", "/secrets", { token: h.adminToken, body: {} });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ code: "NOT_FOUND" });
  });

  it("answer 400 for JSON that does not parse, without quoting it", async () => {
    const h = createHarness();
    const res = await h.call("POST", "/secrets", {
      token: h.adminToken,
      rawBody: '{"name":"A","value":"hunter2-canary"',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("MALFORMED_REQUEST");
    expect(res.text).not.toContain("hunter2");
  });

  it("answer 415 for a body that is not JSON", async () => {
    const h = createHarness();
    const res = await h.call("POST", "/secrets", {
      token: h.adminToken,
      rawBody: "name=A",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
  });

  it("answer 413 beyond ADMIN_MAX_BODY_BYTES, declared or streamed", async () => {
    const h = createHarness({ config: { maxBodyBytes: 4096 } });
    const body = JSON.stringify({ name: "BIG", value: "x".repeat(5000) });
    const declared = await h.call("POST", "/secrets", {
      token: h.adminToken,
      rawBody: body,
      headers: { "content-type": "application/json", "content-length": String(body.length) },
    });
    expect(declared.status).toBe(413);
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        controller.enqueue(chunk);
      },
    });
    const streamed = await h.call("POST", "/secrets", {
      token: h.adminToken,
      rawBody: endless,
      headers: { "content-type": "application/json" },
    });
    expect(streamed.status).toBe(413);
    expect(streamed.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(sent).toBeLessThan(10);
    expect(h.vault.callsOf("putSecret")).toHaveLength(0);
  });
});

describe("when the vault does not answer", () => {
  it("answers 503 when nobody serves the bus, and /healthz says so", async () => {
    const h = createHarness({ serveVault: false });
    const res = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({
      code: "NO_RESPONDERS",
      message: "The vault is not answering; try again shortly",
    });
    const health = await h.call("GET", "/healthz");
    expect(health.status).toBe(503);
    expect(health.json).toEqual({ status: "unavailable" });
  });

  it("answers 503 after ADMIN_VAULT_TIMEOUT_MS when the vault hangs", async () => {
    const h = createHarness({ config: { vaultTimeoutMs: 100 } });
    h.vault.handlers.listSecrets = () => new Promise(() => {});
    const started = performance.now();
    const res = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("TIMEOUT");
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("answers 503 for the vault's UNAVAILABLE with a plain message", async () => {
    const h = createHarness();
    h.vault.handlers.listSecrets = async () => {
      throw new BusError(ErrorCode.UNAVAILABLE, "The vault's database is unavailable; try again shortly");
    };
    const res = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(res.status).toBe(503);
    expect(res.json.error.message).toBe("The vault is unavailable right now; try again shortly");
  });
});

describe("internal failures", () => {
  it("answer 500 without detail, and log the detail", async () => {
    const h = createHarness();
    h.vault.handlers.listSecrets = async () => {
      throw new BusError(ErrorCode.INTERNAL, "relation secrets_v2 does not exist (SELECT * FROM ...)");
    };
    const vaultFailure = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(vaultFailure.status).toBe(500);
    expect(vaultFailure.json.error).toEqual({
      code: "INTERNAL",
      message: "The admin API could not handle the request; its log has the details",
      requestId: vaultFailure.headers["x-request-id"],
    });
    expect(vaultFailure.text).not.toContain("SELECT");

    const token = h.vault.seedServiceToken({ serviceName: "s" });
    h.vault.handlers.listServiceTokens = async () => ({
      serviceTokens: [{ ...token, status: 99 as ServiceTokenStatus }],
      nextCursor: "",
      pendingLimitsReached: [],
    });
    const ours = await h.call("GET", "/service-tokens", { token: h.adminToken });
    expect(ours.status).toBe(500);
    expect(ours.text).not.toContain("status 99");
    const logged = h.logLines.filter((l) => l.includes('"request failed"')).join("\n");
    expect(logged).toContain("unknown service token status 99");
    expect(logged).toContain(ours.headers["x-request-id"]);
  });
});
