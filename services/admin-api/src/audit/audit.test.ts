import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("GET /audit", () => {
  it("passes the filters to the audit service and returns its events newest first", async () => {
    const h = createHarness();
    h.audit.add({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: true,
      timestampMs: 1_000,
    });
    h.audit.add({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: false,
      reason: "ACCESS_PENDING",
      timestampMs: 2_000,
    });
    h.audit.add({
      event: "secret.get",
      secretName: "OTHER",
      serviceName: "billing",
      success: true,
      timestampMs: 3_000,
    });
    const res = await h.call(
      "GET",
      "/audit?secret=DB_URL&service=orders&event=secret.get&from=1970-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=10",
      { token: h.adminToken },
    );
    expect(res.status).toBe(200);
    expect(res.json.events.map((e: { reason: string | null }) => e.reason)).toEqual(["ACCESS_PENDING", null]);
    expect(res.json.events[0]).toMatchObject({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: false,
      timestamp: "1970-01-01T00:00:02.000Z",
      actor: null,
    });
    expect(h.audit.requests.at(-1)).toMatchObject({
      secret: "DB_URL",
      serviceName: "orders",
      event: "secret.get",
      fromMs: 0,
      toMs: Date.parse("2100-01-01T00:00:00Z"),
      limit: 10,
    });
  });

  it("maps the outcome filter to success", async () => {
    const h = createHarness();
    await h.call("GET", "/audit?outcome=failure", { token: h.adminToken });
    expect(h.audit.requests.at(-1)?.success).toBe(false);
    await h.call("GET", "/audit", { token: h.adminToken });
    expect(h.audit.requests.at(-1)?.success).toBeUndefined();
  });

  it("refuses an unknown event, a reversed range and a bad limit", async () => {
    const h = createHarness();
    const event = await h.call("GET", "/audit?event=secret.steal", { token: h.adminToken });
    expect(event.status).toBe(422);
    expect(event.json.error.fields).toEqual([{ field: "event", message: expect.any(String) }]);
    const range = await h.call("GET", "/audit?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", {
      token: h.adminToken,
    });
    expect(range.status).toBe(422);
    expect((await h.call("GET", "/audit?limit=5000", { token: h.adminToken })).status).toBe(422);
    expect(h.audit.requests).toHaveLength(0);
  });

  it("answers 503 when no audit service answers", async () => {
    const h = createHarness({ serveAudit: false });
    const res = await h.call("GET", "/audit", { token: h.adminToken });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("NO_RESPONDERS");
  });
});
