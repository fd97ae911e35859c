import { AuditEvent } from "@secrets/proto/audit";
import { describe, expect, it } from "vitest";
import { auditLogLine, isAuditEventName } from "./audit-events.ts";

describe("auditLogLine", () => {
  it("writes the specification's fields in snake_case with an ISO timestamp", () => {
    const event = AuditEvent.fromPartial({
      id: "0192",
      timestampMs: Date.UTC(2025, 0, 17, 10, 30),
      level: "info",
      event: "secret.get",
      success: true,
      secretId: "secret_123",
      secretName: "STRIPE_API_KEY",
      serviceName: "identity-service",
      ipAddress: "10.0.0.5",
      userAgent: "grpc-node/1.0.0",
      requestId: "r1",
    });
    expect(JSON.parse(auditLogLine(event))).toEqual({
      timestamp: "2025-01-17T10:30:00.000Z",
      level: "info",
      service: "secrets-service",
      event: "secret.get",
      event_id: "0192",
      success: true,
      reason: "",
      secret_id: "secret_123",
      secret_name: "STRIPE_API_KEY",
      service_name: "identity-service",
      actor: "",
      target_id: "",
      subject: "",
      request_id: "r1",
      ip_address: "10.0.0.5",
      user_agent: "grpc-node/1.0.0",
    });
  });

  it("knows the closed set of event names", () => {
    expect(isAuditEventName("secret.get")).toBe(true);
    expect(isAuditEventName("secret.steal")).toBe(false);
  });
});
