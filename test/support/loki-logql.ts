/**
 * The LogQL subset the Loki stand-in answers, evaluated as Loki evaluates it (v2.9.10 and v3.5.0,
 * `pkg/logql/syntax` for the grammar, `pkg/logql/log/parser.go` and `labels.go` for the parsers):
 *
 * - a stream selector `{a="b", ...}` with `=` matchers (a stream matches when it has every pair, whatever
 *   other labels it carries);
 * - line filters `|= "text"` and `!= "text"` (substring of the raw line);
 * - `| json` (every field becomes a label, nested keys joined with `_`) and `| json a="path", ...` (only the
 *   named fields, under the given names). Either way a name the stream already has as a label gets the
 *   suffix `_extracted`: Loki never overwrites a stream label with a parsed one;
 * - label filters `| name="value"` (a missing label reads as "").
 *
 * Strings are double-quoted (Go escapes, a superset of JSON's) or back-quoted.
 */

export type LogqlStage =
  | { kind: "line"; contains: string; negate: boolean }
  | { kind: "json"; fields: [label: string, path: string][] | undefined }
  | { kind: "label"; name: string; value: string };

export interface ParsedLogql {
  selector: [string, string][];
  stages: LogqlStage[];
}

const duplicateSuffix = "_extracted";
const identifierPattern = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses the subset; a string is the parse error Loki would answer 400 with. */
export function parseLogql(query: string): ParsedLogql | string {
  let position = 0;
  const skipSpace = () => {
    while (/\s/.test(query[position] ?? "")) position++;
  };
  const accept = (text: string) => {
    skipSpace();
    if (!query.startsWith(text, position)) return false;
    position += text.length;
    return true;
  };
  const identifier = () => {
    skipSpace();
    const match = identifierPattern.exec(query.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    return match[0];
  };
  const string = (): string | undefined => {
    skipSpace();
    if (query[position] === "`") {
      const end = query.indexOf("`", position + 1);
      if (end < 0) return undefined;
      const value = query.slice(position + 1, end);
      position = end + 1;
      return value;
    }
    const match = /^"(?:[^"\\]|\\.)*"/.exec(query.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    try {
      return JSON.parse(match[0]) as string;
    } catch {
      return undefined;
    }
  };
  const pair = (): [string, string] | string => {
    const name = identifier();
    if (name === undefined) return `expected a label name at ${position}`;
    if (!accept("=")) return `only = matchers are supported (at ${position})`;
    if (query[position] === "~" || query[position] === "=")
      return `only = matchers are supported (at ${position})`;
    const value = string();
    if (value === undefined) return `expected a string at ${position}`;
    return [name, value];
  };

  if (!accept("{")) return "a query starts with a stream selector {...}";
  const selector: [string, string][] = [];
  if (!accept("}")) {
    for (;;) {
      const matcher = pair();
      if (typeof matcher === "string") return matcher;
      selector.push(matcher);
      if (accept("}")) break;
      if (!accept(",")) return `expected , or } at ${position}`;
    }
  }
  if (selector.length === 0) return "the stream selector needs at least one matcher";
  const stages: LogqlStage[] = [];
  for (;;) {
    skipSpace();
    if (position >= query.length) break;
    if (accept("|=") || accept("!=")) {
      const negate = query[position - 2] === "!";
      const contains = string();
      if (contains === undefined) return `expected a string after a line filter at ${position}`;
      stages.push({ kind: "line", contains, negate });
      continue;
    }
    if (!accept("|")) return `expected | at ${position}`;
    skipSpace();
    if (/^json\b/.test(query.slice(position))) {
      position += 4;
      const fields: [string, string][] = [];
      // Explicit fields: `json a="path", b="path"`, each a label name and a (top-level) field.
      const save = position;
      const first = identifier();
      if (first !== undefined && accept("=")) {
        position = save;
        for (;;) {
          const field = pair();
          if (typeof field === "string") return field;
          fields.push(field);
          if (!accept(",")) break;
        }
      } else position = save;
      stages.push({ kind: "json", fields: fields.length > 0 ? fields : undefined });
      continue;
    }
    const filter = pair();
    if (typeof filter === "string") return filter;
    stages.push({ kind: "label", name: filter[0], value: filter[1] });
  }
  return { selector, stages };
}

const sanitize = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, "_");
const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** `| json` without parameters: every scalar field, nested keys joined with `_`. */
function extractAll(labels: Record<string, string>, fields: Record<string, unknown>): void {
  const stream = { ...labels };
  const visit = (value: unknown, prefix: string) => {
    if (value === null || Array.isArray(value)) return;
    if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        visit(inner, prefix === "" ? sanitize(key) : `${prefix}_${sanitize(key)}`);
      }
      return;
    }
    labels[prefix in stream ? `${prefix}${duplicateSuffix}` : prefix] = text(value);
  };
  visit(fields, "");
}

/** `| json a="b", ...`: only the named top-level fields, under the given label names. */
function extractNamed(
  labels: Record<string, string>,
  fields: Record<string, unknown>,
  wanted: [string, string][],
): void {
  const stream = { ...labels };
  for (const [label, path] of wanted) {
    if (!(path in fields)) continue;
    const value = fields[path];
    labels[label in stream ? `${label}${duplicateSuffix}` : label] =
      value === null || value === undefined ? "" : text(value);
  }
}

/**
 * The labels an entry has after the query's pipeline, or undefined when a stage drops it. The stream's
 * own labels come first: parsed labels never replace them.
 */
export function evaluatePipeline(
  query: ParsedLogql,
  streamLabels: Record<string, string>,
  line: string,
): Record<string, string> | undefined {
  if (!query.selector.every(([name, value]) => streamLabels[name] === value)) return undefined;
  const labels = { ...streamLabels };
  for (const stage of query.stages) {
    if (stage.kind === "line") {
      if (line.includes(stage.contains) === stage.negate) return undefined;
    } else if (stage.kind === "label") {
      if ((labels[stage.name] ?? "") !== stage.value) return undefined;
    } else {
      let fields: unknown;
      try {
        fields = JSON.parse(line);
      } catch {
        labels.__error__ = "JSONParserErr";
        continue;
      }
      if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
        labels.__error__ = "JSONParserErr";
        continue;
      }
      const record = fields as Record<string, unknown>;
      if (stage.fields) extractNamed(labels, record, stage.fields);
      else extractAll(labels, record);
    }
  }
  return labels;
}
