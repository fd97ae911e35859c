import { auditLogLine } from "@secrets/bus";
import { AuditEvent } from "@secrets/proto/audit";
import { evaluatePipeline } from "@secrets/test/support/loki-logql";
import { parseLogql } from "@secrets/test/support/loki-receiver";
import { describe, expect, it } from "vitest";
import type { AuditQuery } from "../query/audit-query.ts";
import { auditLogql, eventByIdLogql, lineFragment, logqlString } from "./logql.ts";

const base: AuditQuery = { fromMs: 0, toMs: 1, limit: 100 };

/** The labels Loki 3.5 gives our streams (service_name derived from service), and 2.9's. */
const streams = {
  "2.9": { service: "secrets-service", env: "p", event: "secret.get" },
  "3.5": { service: "secrets-service", env: "p", event: "secret.get", service_name: "secrets-service" },
};

function matches(query: string, labels: Record<string, string>, event: AuditEvent): boolean {
  const parsed = parseLogql(query);
  if (typeof parsed === "string") throw new Error(parsed);
  return evaluatePipeline(parsed, labels, auditLogLine(event)) !== undefined;
}

describe("audit LogQL", () => {
  it("selects the static labels, filters lines first, then extracts only the filtered fields", () => {
    expect(auditLogql(base, "production")).toBe('{service="secrets-service", env="production"}');
    expect(
      auditLogql(
        { ...base, event: "secret.get", secretName: "DB_URL", serviceName: "orders", success: false },
        "prod",
      ),
    ).toBe(
      '{service="secrets-service", env="prod", event="secret.get"}' +
        ' |= "\\"secret_name\\":\\"DB_URL\\"" |= "\\"service_name\\":\\"orders\\"" |= "\\"success\\":false"' +
        ' | json secret_name="secret_name", caller_service="service_name", success="success"' +
        ' | secret_name="DB_URL" | caller_service="orders" | success="false"',
    );
    expect(auditLogql({ ...base, secretId: "0192" }, "p")).toContain('| secret_id="0192"');
  });

  it("never filters on a name Loki 3 holds as a stream label", () => {
    const query = auditLogql({ ...base, serviceName: "orders" }, "p");
    const parsed = parseLogql(query);
    if (typeof parsed === "string") throw new Error(parsed);
    const labelFilters = parsed.stages.flatMap((stage) => (stage.kind === "label" ? [stage.name] : []));
    for (const name of labelFilters) expect(Object.keys(streams["3.5"])).not.toContain(name);
  });

  it.each(Object.entries(streams))("finds a service's events on Loki %s, and only those", (_, labels) => {
    const orders = AuditEvent.fromPartial({ id: "e1", event: "secret.get", serviceName: "orders" });
    const billing = AuditEvent.fromPartial({ id: "e2", event: "secret.get", serviceName: "billing" });
    const query = auditLogql({ ...base, serviceName: "orders", event: "secret.get" }, "p");
    expect(matches(query, labels, orders)).toBe(true);
    expect(matches(query, labels, billing)).toBe(false);
    const failed = AuditEvent.fromPartial({ ...orders, success: false, secretName: "A" });
    const narrow = auditLogql({ ...base, serviceName: "orders", success: false, secretName: "A" }, "p");
    expect(matches(narrow, labels, failed)).toBe(true);
    expect(matches(narrow, labels, { ...failed, success: true })).toBe(false);
    expect(matches(eventByIdLogql("p", "secret.get", "e1"), labels, orders)).toBe(true);
    expect(matches(eventByIdLogql("p", "secret.get", "e1"), labels, billing)).toBe(false);
  });

  it("writes line fragments exactly as the audit line holds them", () => {
    const event = AuditEvent.fromPartial({ id: "x", serviceName: 'we"ird\\ \u2028 ü', success: true });
    const line = auditLogLine(event);
    expect(line).toContain(lineFragment("service_name", event.serviceName));
    expect(line).toContain(lineFragment("success", true));
    expect(line).toContain(lineFragment("event_id", "x"));
  });

  it("escapes user-supplied strings so they cannot break out of the literal", () => {
    const hostile = 'x"} | line_format "{{.secret}}" \\ \n';
    expect(JSON.parse(logqlString(hostile))).toBe(hostile);
    const parsed = parseLogql(auditLogql({ ...base, serviceName: hostile }, "p"));
    expect(parsed).toMatchObject({
      stages: [
        { kind: "line", contains: lineFragment("service_name", hostile) },
        { kind: "json", fields: [["caller_service", "service_name"]] },
        { kind: "label", name: "caller_service", value: hostile },
      ],
    });
    const event = AuditEvent.fromPartial({ id: "h", event: "secret.get", serviceName: hostile });
    expect(matches(auditLogql({ ...base, serviceName: hostile }, "p"), streams["3.5"], event)).toBe(true);
  });
});
