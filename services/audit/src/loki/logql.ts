/**
 * LogQL for audit queries: a stream selector on the static labels (and `event` when filtering by it), a
 * line filter per field (cheap: Loki skips lines before parsing them), then `| json` extracting only the
 * filtered fields under explicit names, and one label filter per field, for example
 * `{service="secrets-service", env="production"} |= "\"service_name\":\"orders\"" | json caller_service="service_name" | caller_service="orders"`.
 *
 * Why explicit names: Loki 3 gives every stream a `service_name` label (derived from our `service` label,
 * `discover_service_name`), and a plain `| json` then files the line's own `service_name` as
 * `service_name_extracted`, so `| json | service_name="orders"` matches nothing on 3.x although it
 * works on 2.9. `caller_service` is not a label in either release.
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

/**
 * The text a line holds for `field` set to `value`: audit lines are `JSON.stringify` output (no spaces),
 * so this is exact, and a line filter on it drops no matching line.
 */
export function lineFragment(field: string, value: string | boolean): string {
  return `${JSON.stringify(field)}:${JSON.stringify(value)}`;
}

/** The stream selector for `environment`, optionally narrowed to one event name. */
export function auditSelector(environment: string, event?: string): string {
  const selector = { ...staticLabels(environment), ...(event === undefined ? {} : { event }) };
  return `{${Object.entries(selector)
    .map(([name, value]) => matcher(name, value))
    .join(", ")}}`;
}

/** A filter on one line field: the label `| json` extracts it under, and the wanted value. */
interface FieldFilter {
  label: string;
  field: string;
  value: string | boolean;
}

function fieldFilters(query: AuditQuery): FieldFilter[] {
  const filters: FieldFilter[] = [];
  if (query.secretId !== undefined)
    filters.push({ label: "secret_id", field: "secret_id", value: query.secretId });
  if (query.secretName !== undefined)
    filters.push({ label: "secret_name", field: "secret_name", value: query.secretName });
  if (query.serviceName !== undefined)
    filters.push({ label: "caller_service", field: "service_name", value: query.serviceName });
  if (query.success !== undefined) filters.push({ label: "success", field: "success", value: query.success });
  return filters;
}

/** The pipeline after a selector that keeps only lines whose fields have the given values. */
export function fieldPipeline(filters: readonly FieldFilter[]): string {
  if (filters.length === 0) return "";
  const lineFilters = filters.map((f) => `|= ${logqlString(lineFragment(f.field, f.value))}`);
  const json = `| json ${filters.map((f) => `${f.label}=${logqlString(f.field)}`).join(", ")}`;
  const labelFilters = filters.map((f) => `| ${matcher(f.label, String(f.value))}`);
  return [...lineFilters, json, ...labelFilters].join(" ");
}

/** The query for `query` against streams labelled with `environment`. */
export function auditLogql(query: AuditQuery, environment: string): string {
  const pipeline = fieldPipeline(fieldFilters(query));
  const selector = auditSelector(environment, query.event);
  return pipeline === "" ? selector : `${selector} ${pipeline}`;
}

/** The query that finds one event by id (whatever extra labels its stream has). */
export function eventByIdLogql(environment: string, event: string, id: string): string {
  return `${auditSelector(environment, event)} ${fieldPipeline([{ label: "audit_event_id", field: "event_id", value: id }])}`;
}
