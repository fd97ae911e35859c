import { AuditVerifyReply } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("GET /audit/verify and GET /audit/signing-key", () => {
  it("asks the audit service to verify the range and reports each problem by position", async () => {
    const h = createHarness();
    h.audit.verification = AuditVerifyReply.fromPartial({
      ok: false,
      events: 41,
      firstSeq: 10,
      lastSeq: 51,
      validDigests: 1,
      signedThroughSeq: 40,
      problems: [
        { kind: "modified", seq: 17, detail: "its content does not match its hash" },
        { kind: "missing", seq: 30, toSeq: 31, detail: "positions 30..31 are missing" },
      ],
    });
    const res = await h.call("GET", "/audit/verify?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", {
      token: h.adminToken,
    });
    expect(res.status).toBe(200);
    expect(h.audit.verifyRequests.at(-1)).toMatchObject({
      fromMs: Date.parse("2026-01-01T00:00:00Z"),
      toMs: Date.parse("2026-01-02T00:00:00Z"),
      keyOnly: false,
    });
    expect(res.json).toEqual({
      ok: false,
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-02T00:00:00.000Z",
      events: 41,
      firstSeq: 10,
      lastSeq: 51,
      validDigests: 1,
      signedThroughSeq: 40,
      truncated: false,
      problems: [
        { kind: "modified", seq: 17, toSeq: null, detail: "its content does not match its hash" },
        { kind: "missing", seq: 30, toSeq: 31, detail: "positions 30..31 are missing" },
      ],
    });
  });

  it("serves the public key, to admins only", async () => {
    const h = createHarness();
    const res = await h.call("GET", "/audit/signing-key", { token: h.adminToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ publicKey: "-----BEGIN PUBLIC KEY-----\nfake\n" });
    expect(h.audit.verifyRequests.at(-1)?.keyOnly).toBe(true);
    expect((await h.call("GET", "/audit/signing-key")).status).toBe(401);
    expect((await h.call("GET", "/audit/verify")).status).toBe(401);
  });

  it("refuses a range that ends before it starts", async () => {
    const h = createHarness();
    const res = await h.call("GET", "/audit/verify?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", {
      token: h.adminToken,
    });
    expect(res.status).toBe(422);
    expect(h.audit.verifyRequests).toHaveLength(0);
  });
});
