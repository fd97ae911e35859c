/**
 * LogQL for audit queries: a stream selector on the static labels (and `event` when filtering by it),
 * then `| json` and one label filter per field, for example
 * `{service="secrets-service", env="production", event="secret.get"} | json | secret_name="DB_URL"`.
 */
import type { AuditQuery } from "../query/audit-query.ts";
import { staticLabels } from "./loki-push.ts";

/**
 * A LogQL string literal. LogQL reads double-quoted strings with Go's rules, which accept every escape
 * JSON writes (`\"`, `\\`, `\n`, `\uXXXX`...), so JSON's quoting is a safe escape for user input.
 */
export function logqlString(value: string): string {
  return JSON.stringify(value);
}

function matcher(name: string, value: string): string {
  return `${name}=${logqlString(value)}`;
}

/** The query for `query` against streams labelled with `environment`. */
export function auditLogql(query: AuditQuery, environment: string): string {
  const selector = {
    ...staticLabels(environment),
    ...(query.event === undefined ? {} : { event: query.event }),
  };
  const filters: string[] = [];
  if (query.secretId !== undefined) filters.push(matcher("secret_id", query.secretId));
  if (query.secretName !== undefined) filters.push(matcher("secret_name", query.secretName));
  if (query.serviceName !== undefined) filters.push(matcher("service_name", query.serviceName));
  if (query.success !== undefined) filters.push(matcher("success", String(query.success)));
  const stream = `{${Object.entries(selector)
    .map(([name, value]) => matcher(name, value))
    .join(", ")}}`;
  return [stream, "json", ...filters].join(" | ");
}
