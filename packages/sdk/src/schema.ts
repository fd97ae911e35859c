/**
 * A service's secrets schema, in either of its two forms, and the rules it must follow. The same rules
 * hold for the schema given to `createSecretsClient` and for every `secrets.schema.json` the CLI reads.
 */
import { checkDescription, checkSecretName } from "@secrets/validation";

/** The content of a `secrets.schema.json` (or its generated `as const` copy). */
export interface SecretsJsonSchema {
  readonly $schema?: string;
  readonly $comment?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type: string;
  readonly properties: {
    readonly [key: string]: { readonly type: string; readonly description: string };
  };
}

/** The short form: each key with its description, `{ STRIPE_API_KEY: "Stripe API key for payments" }`. */
export type SecretsDescriptionMap = { readonly [key: string]: string };

export type SecretsSchemaInput = SecretsJsonSchema | SecretsDescriptionMap;

/** The keys a schema declares, as a union of string literals. */
export type SecretKey<S> = S extends { readonly properties: infer P }
  ? Extract<keyof P, string>
  : Extract<keyof S, string>;

export interface SchemaEntry {
  key: string;
  description: string;
}

/** One thing wrong with a schema. `key` is empty for a problem with the document itself. */
export interface SchemaProblem {
  key: string;
  problem: string;
}

const jsonSchemaFields = new Set([
  "$schema",
  "$comment",
  "$id",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "additionalProperties",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkEntry(key: string, description: unknown, problems: SchemaProblem[]): SchemaEntry | undefined {
  for (const violation of checkSecretName(key, "key"))
    problems.push({ key, problem: `name ${violation.description}` });
  if (typeof description !== "string" || description.trim() === "") {
    problems.push({
      key,
      problem: "needs a description (a non-empty string): admins see it when the secret is missing",
    });
    return undefined;
  }
  for (const violation of checkDescription(description)) {
    problems.push({ key, problem: `description ${violation.description}` });
  }
  return { key, description };
}

function checkJsonSchema(input: Record<string, unknown>, problems: SchemaProblem[]): SchemaEntry[] {
  for (const field of Object.keys(input)) {
    if (!jsonSchemaFields.has(field)) problems.push({ key: "", problem: `unknown field "${field}"` });
  }
  if (input.type !== "object") problems.push({ key: "", problem: `"type" must be "object"` });
  if (!isRecord(input.properties)) {
    problems.push({ key: "", problem: `"properties" must be an object of secrets` });
    return [];
  }
  const entries: SchemaEntry[] = [];
  for (const [key, property] of Object.entries(input.properties)) {
    if (!isRecord(property)) {
      problems.push({ key, problem: `must be an object { "type": "string", "description": "..." }` });
      continue;
    }
    if (property.type !== "string") problems.push({ key, problem: `"type" must be "string"` });
    const entry = checkEntry(key, property.description, problems);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * Checks a schema and lists its keys with their descriptions (in declaration order) and every problem.
 * `form: "json"` accepts only the `secrets.schema.json` shape; `"any"` also the short key → description map.
 */
export function validateSchema(
  input: unknown,
  form: "json" | "any" = "any",
): { entries: SchemaEntry[]; problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  if (!isRecord(input)) {
    return { entries: [], problems: [{ key: "", problem: "must be a JSON object" }] };
  }
  if (form === "json" || "properties" in input)
    return { entries: checkJsonSchema(input, problems), problems };
  const entries: SchemaEntry[] = [];
  for (const [key, description] of Object.entries(input)) {
    const entry = checkEntry(key, description, problems);
    if (entry) entries.push(entry);
  }
  return { entries, problems };
}

/** "KEY: problem; other problem" lines for a message. */
export function describeProblems(problems: SchemaProblem[]): string {
  return problems.map((p) => (p.key ? `${p.key}: ${p.problem}` : p.problem)).join("; ");
}
