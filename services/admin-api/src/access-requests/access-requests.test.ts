import { AccessStatus } from "@secrets/proto/admin";
import { beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/harness.ts";

let h: Harness;
beforeEach(() => {
  h = createHarness();
});

function seed() {
  const secret = h.vault.seedSecret({ name: "DB_URL" });
  return h.vault.seedAccessRequest({
    secretId: secret.id,
    secretName: "DB_URL",
    serviceName: "orders",
    requestedDescription: "Orders database",
    accessCount: 3,
    lastAccessedAtMs: Date.UTC(2025, 0, 18),
  });
}

describe("access requests", () => {
  it("lists them with statuses as words and unset times as null", async () => {
    const request = seed();
    const res = await h.call("GET", "/access-requests", { token: h.adminToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      accessRequests: [
        {
          id: request.id,
          secretId: request.secretId,
          secretName: "DB_URL",
          serviceName: "orders",
          status: "pending",
          requestedAt: "2025-01-17T10:30:00.000Z",
          grantedAt: null,
          grantedBy: null,
          accessCount: 3,
          lastAccessedAt: "2025-01-18T00:00:00.000Z",
          requestedDescription: "Orders database",
        },
      ],
      nextCursor: null,
      pendingLimitsReached: [],
    });
    expect(h.vault.callsOf("listAccessRequests")[0]).toMatchObject({
      status: AccessStatus.UNSPECIFIED,
      limit: 100,
    });
  });

  it("reports the services whose pending requests reached the vault's limit", async () => {
    seed();
    h.vault.state.pendingLimitsReached.accessRequests = [
      { serviceName: "orders", clientAddress: "", pending: 100, limit: 100 },
    ];
    const res = await h.call("GET", "/access-requests?status=pending", { token: h.adminToken });
    expect(res.json.pendingLimitsReached).toEqual([
      { serviceName: "orders", clientAddress: null, pending: 100, limit: 100 },
    ]);
  });

  it("filters by status and refuses an unknown one with 422", async () => {
    seed();
    const granted = await h.call("GET", "/access-requests?status=granted&limit=10", { token: h.adminToken });
    expect(granted.json.accessRequests).toEqual([]);
    expect(h.vault.callsOf("listAccessRequests")[0]).toMatchObject({
      status: AccessStatus.GRANTED,
      limit: 10,
    });
    const unknown = await h.call("GET", "/access-requests?status=maybe", { token: h.adminToken });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.fields).toEqual([
      { field: "status", message: "must be one of: pending, granted, denied" },
    ]);
  });

  it("approves and denies, attributed to the admin", async () => {
    const request = seed();
    const approved = await h.call("POST", `/access-requests/${request.id}/approve`, { token: h.adminToken });
    expect(approved.status).toBe(200);
    expect(approved.json.accessRequest).toMatchObject({ status: "granted", grantedBy: "alice" });
    expect(approved.json.accessRequest.grantedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const denied = await h.call("POST", `/access-requests/${request.id}/deny`, { token: h.adminToken });
    expect(denied.json.accessRequest).toMatchObject({ status: "denied", grantedBy: "alice" });
    const [deny] = h.vault.callsOf("denyAccessRequest");
    expect(deny).toMatchObject({ id: request.id });
    expect(h.vault.actorOf(deny?.admin)).toBe("alice");
  });

  it("answers 404 for an unknown id", async () => {
    const res = await h.call("POST", "/access-requests/nope/approve", { token: h.adminToken });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({
      code: "NOT_FOUND",
      message: 'No access request has the id "nope"',
    });
  });
});

describe("POST /access-requests", () => {
  it("grants a secret to a service before it asks: 201 when new, 200 when it existed", async () => {
    h.vault.seedSecret({ name: "DB_URL" });
    const body = { secretName: "DB_URL", serviceName: "orders" };
    const created = await h.call("POST", "/access-requests", { token: h.adminToken, body });
    expect(created.status).toBe(201);
    expect(created.json.accessRequest).toMatchObject({ ...body, status: "granted", grantedBy: "alice" });
    const [grant] = h.vault.callsOf("grantAccess");
    expect(grant).toMatchObject(body);
    expect(h.vault.actorOf(grant?.admin)).toBe("alice");
    const again = await h.call("POST", "/access-requests", { token: h.adminToken, body });
    expect(again.status).toBe(200);
    expect(again.json.accessRequest.id).toBe(created.json.accessRequest.id);
  });

  it("answers 404 for an unknown secret and 422 for bad names", async () => {
    const unknown = await h.call("POST", "/access-requests", {
      token: h.adminToken,
      body: { secretName: "NOPE", serviceName: "orders" },
    });
    expect(unknown.status).toBe(404);
    const bad = await h.call("POST", "/access-requests", {
      token: h.adminToken,
      body: { secretName: "nope", serviceName: "Orders!" },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      "secretName",
      "serviceName",
    ]);
  });
});
