import { describe, expect, it } from "vitest";
import { parseLogql } from "../../../../test/support/loki-receiver.ts";
import type { AuditQuery } from "../query/audit-query.ts";
import { auditLogql, logqlString } from "./logql.ts";

const base: AuditQuery = { fromMs: 0, toMs: 1, limit: 100 };

describe("audit LogQL", () => {
  it("selects the static labels and adds one json filter per field", () => {
    expect(auditLogql(base, "production")).toBe('{service="secrets-service", env="production"} | json');
    expect(
      auditLogql(
        { ...base, event: "secret.get", secretName: "DB_URL", serviceName: "orders", success: false },
        "prod",
      ),
    ).toBe(
      '{service="secrets-service", env="prod", event="secret.get"} | json | secret_name="DB_URL" | service_name="orders" | success="false"',
    );
    expect(auditLogql({ ...base, secretId: "0192" }, "p")).toContain('| secret_id="0192"');
  });

  it("escapes user-supplied strings so they cannot break out of the literal", () => {
    const hostile = 'x"} | line_format "{{.secret}}" \\ \n';
    expect(JSON.parse(logqlString(hostile))).toBe(hostile);
    const parsed = parseLogql(auditLogql({ ...base, serviceName: hostile }, "p"));
    expect(parsed).toMatchObject({ filters: [["service_name", hostile]] });
  });
});
