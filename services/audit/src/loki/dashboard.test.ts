/**
 * The Grafana audit dashboard's queries work on Loki 3 as on 2.9: Loki 3 gives our streams a
 * `service_name` label (from `service`), so a plain `| json` would file the line's own `service_name` as
 * `service_name_extracted` and every panel grouping or filtering by the calling service would go blank.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { auditLogLine } from "@secrets/bus";
import { AuditEvent } from "@secrets/proto/audit";
import { evaluatePipeline, parseLogql } from "@secrets/test/support/loki-logql";
import { describe, expect, it } from "vitest";

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../../../deploy/grafana/dashboards/audit.json"), "utf8"),
) as { panels: { title: string; targets: { expr: string }[] }[] };
const expressions = dashboard.panels.flatMap((panel) =>
  panel.targets.map((target) => ({ title: panel.title, expr: target.expr })),
);

/** The log query inside a panel's expression, in the stand-in's subset (Grafana variables filled in). */
function logPart(expr: string): string {
  const inner = /count_over_time\((.*) \[[^\]]+\]\)\)$/.exec(expr)?.[1] ?? expr;
  return inner
    .replace('env=~"$env"', 'env="test"')
    .split(/ (?=\| )/)
    .filter((stage) => !/=~|!=""|line_format/.test(stage))
    .join(" ");
}

const loki35Labels = {
  service: "secrets-service",
  env: "test",
  event: "secret.get",
  service_name: "secrets-service",
};

describe("the Grafana audit dashboard", () => {
  it.each(expressions)("$title: extracts json fields by name, never as service_name", ({ expr }) => {
    if (expr.includes("| json")) expect(expr).toMatch(/\| json \w+="\w+"/);
    // service_name appears only as the json path of caller_service.
    expect(expr.replaceAll('caller_service="service_name"', "")).not.toMatch(/service_name/);
  });

  it("groups reads by the calling service on Loki 3", () => {
    const panel = expressions.find((e) => e.expr.includes("sum by (secret_name, caller_service)"));
    const query = parseLogql(logPart(panel?.expr ?? ""));
    if (typeof query === "string") throw new Error(query);
    const event = AuditEvent.fromPartial({
      id: "e1",
      event: "secret.get",
      success: true,
      secretName: "DB_URL",
      serviceName: "orders",
    });
    expect(evaluatePipeline(query, loki35Labels, auditLogLine(event))).toMatchObject({
      secret_name: "DB_URL",
      caller_service: "orders",
      service_name: "secrets-service",
    });
    expect(evaluatePipeline(query, loki35Labels, auditLogLine({ ...event, success: false }))).toBeUndefined();
  });

  it("lists refusals and admin actions from the lines' own fields", () => {
    const refusals = parseLogql(logPart(expressions.find((e) => e.expr.includes("by (reason)"))?.expr ?? ""));
    if (typeof refusals === "string") throw new Error(refusals);
    const refused = AuditEvent.fromPartial({ id: "r", success: false, reason: "ACCESS_PENDING" });
    expect(evaluatePipeline(refusals, loki35Labels, auditLogLine(refused))).toMatchObject({
      reason: "ACCESS_PENDING",
    });
    const admin = parseLogql(logPart(expressions.find((e) => e.expr.includes("line_format"))?.expr ?? ""));
    if (typeof admin === "string") throw new Error(admin);
    const action = AuditEvent.fromPartial({ id: "a", actor: "alice", serviceName: "orders" });
    expect(evaluatePipeline(admin, loki35Labels, auditLogLine(action))).toMatchObject({
      actor: "alice",
      caller_service: "orders",
    });
    expect(evaluatePipeline(admin, loki35Labels, auditLogLine({ ...action, actor: "" }))).toBeUndefined();
  });
});
