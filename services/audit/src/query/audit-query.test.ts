import { ErrorCode } from "@secrets/bus";
import { AuditQueryRequest } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import { auditQueryFromRequest, matchesAuditQuery } from "./audit-query.ts";

const now = Date.UTC(2025, 0, 17);
const day = 24 * 60 * 60 * 1000;
const request = (fields: Partial<AuditQueryRequest>) => AuditQueryRequest.fromPartial(fields);

describe("audit query requests", () => {
  it("applies the defaults: the last 24 hours, 100 events", () => {
    expect(auditQueryFromRequest(request({}), now)).toEqual({ fromMs: now - day, toMs: now, limit: 100 });
    expect(auditQueryFromRequest(request({ toMs: now - day }), now)).toMatchObject({
      fromMs: now - 2 * day,
      toMs: now - day,
    });
  });

  it("reads `secret` as an id when it looks like a UUID, else as a name", () => {
    const id = "0194F1B2-7C3D-7A8B-9C0D-1E2F3A4B5C6D";
    expect(auditQueryFromRequest(request({ secret: id }), now)).toMatchObject({ secretId: id.toLowerCase() });
    expect(auditQueryFromRequest(request({ secret: "DB_URL" }), now)).toMatchObject({ secretName: "DB_URL" });
    expect(
      auditQueryFromRequest(
        request({ serviceName: "orders", event: "secret.get", success: false, limit: 1000 }),
        now,
      ),
    ).toMatchObject({ serviceName: "orders", event: "secret.get", success: false, limit: 1000 });
  });

  it("answers INVALID_ARGUMENT naming every bad field", () => {
    const attempt = () =>
      auditQueryFromRequest(
        request({
          secret: 'x"}',
          serviceName: "Orders!",
          event: "secret.steal",
          limit: 1001,
          fromMs: now,
          toMs: now - 1,
        }),
        now,
      );
    expect(attempt).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }));
    try {
      attempt();
    } catch (error) {
      const fields = (error as { violations: { field: string }[] }).violations.map((v) => v.field);
      expect(fields).toEqual(["secret", "service_name", "event", "limit", "from_ms"]);
    }
    expect(() => auditQueryFromRequest(request({ fromMs: now - 31 * day }), now)).toThrow(/30 days/);
    expect(() => auditQueryFromRequest(request({ limit: -1 }), now)).toThrow(/limit/);
  });

  it("matches events against every filter", () => {
    const query = auditQueryFromRequest(request({ secret: "DB_URL", success: true }), now);
    const event = {
      timestampMs: now - 1,
      secretId: "s1",
      secretName: "DB_URL",
      serviceName: "orders",
      event: "secret.get",
      success: true,
    };
    expect(matchesAuditQuery(event, query)).toBe(true);
    expect(matchesAuditQuery({ ...event, success: false }, query)).toBe(false);
    expect(matchesAuditQuery({ ...event, secretName: "OTHER" }, query)).toBe(false);
    expect(matchesAuditQuery({ ...event, timestampMs: now - 2 * day }, query)).toBe(false);
  });
});
