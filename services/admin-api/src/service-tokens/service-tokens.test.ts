import { ServiceTokenStatus } from "@secrets/proto/admin";
import { beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/harness.ts";

let h: Harness;
beforeEach(() => {
  h = createHarness();
});

describe("service tokens", () => {
  it("lists them, with what approving would hand over, and never a token or hash", async () => {
    const token = h.vault.seedServiceToken({
      serviceName: "orders",
      serviceVersion: "2.1.0",
      inheritedAccessRequests: 2,
      fingerprint: "ab12cd34",
      clientAddress: "203.0.113.7",
    });
    h.vault.state.pendingLimitsReached.serviceTokens = [
      { serviceName: "orders", clientAddress: "", pending: 3, limit: 3 },
      { serviceName: "", clientAddress: "203.0.113.7", pending: 10, limit: 10 },
    ];
    const res = await h.call("GET", "/service-tokens?status=pending", { token: h.adminToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      serviceTokens: [
        {
          id: token.id,
          serviceName: "orders",
          serviceVersion: "2.1.0",
          status: "pending",
          requestedAt: "2025-01-17T10:30:00.000Z",
          approvedAt: null,
          approvedBy: null,
          lastUsedAt: null,
          accessCount: 0,
          inheritedAccessRequests: 2,
          fingerprint: "ab12cd34",
          clientAddress: "203.0.113.7",
        },
      ],
      nextCursor: null,
      pendingLimitsReached: [
        { serviceName: "orders", clientAddress: null, pending: 3, limit: 3 },
        { serviceName: null, clientAddress: "203.0.113.7", pending: 10, limit: 10 },
      ],
    });
    expect(h.vault.callsOf("listServiceTokens")[0]).toMatchObject({ status: ServiceTokenStatus.PENDING });
  });

  it("approves, denies and revokes", async () => {
    const a = h.vault.seedServiceToken({ serviceName: "a" });
    const b = h.vault.seedServiceToken({ serviceName: "b" });
    const approved = await h.call("POST", `/service-tokens/${a.id}/approve`, { token: h.adminToken });
    expect(approved.json.serviceToken).toMatchObject({ status: "approved", approvedBy: "alice" });
    const denied = await h.call("POST", `/service-tokens/${b.id}/deny`, { token: h.adminToken });
    expect(denied.json.serviceToken).toMatchObject({ status: "denied" });
    const revoked = await h.call("POST", `/service-tokens/${a.id}/revoke`, { token: h.adminToken });
    expect(revoked.json.serviceToken).toMatchObject({ status: "revoked" });
    const [revocation] = h.vault.callsOf("revokeServiceToken");
    expect(revocation).toMatchObject({ id: a.id });
    expect(h.vault.actorOf(revocation?.admin)).toBe("alice");
  });

  it("maps FAILED_PRECONDITION (approving a revoked token) to 409 and an unknown id to 404", async () => {
    const token = h.vault.seedServiceToken({ serviceName: "a", status: ServiceTokenStatus.REVOKED });
    const again = await h.call("POST", `/service-tokens/${token.id}/approve`, { token: h.adminToken });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "FAILED_PRECONDITION" });
    const unknown = await h.call("POST", "/service-tokens/unknown/deny", { token: h.adminToken });
    expect(unknown.status).toBe(404);
  });
});
