/**
 * The one place where the document @elysiajs/swagger generates becomes a valid OpenAPI 3.1 document.
 *
 * The plugin writes 3.0.3 but maps TypeBox schemas as they are (JSON Schema, which is what 3.1 uses:
 * `const`, `type: "null"`), so the document is declared 3.1 and what is not JSON Schema is mapped here:
 *
 * - Elysia's `t.Integer` accepts a numeric string as well (to coerce query strings); the plugin writes
 *   that as `anyOf: [{ type: "string", format: "integer" }, { type: "integer" }]`. The document states
 *   the integer.
 * - `t.Nullable` adds the 3.0 keyword `nullable` beside its `anyOf` with `type: "null"`: dropped.
 * - The plugin lists every body and response as JSON, multipart and plain text. Every route reads JSON
 *   and answers JSON (`http/json-body.ts`, `http/error-map.ts`): only `application/json` is kept.
 * - Operation ids are camelCase (`getAccessRequests`, not `getAccess-requests`): generators turn them into
 *   function names.
 * - A response never carries a field its schema does not declare (Elysia drops it, or refuses it in the
 *   contract tests), so response objects say `additionalProperties: false`, and generated clients get
 *   exact types.
 */

// biome-ignore lint/suspicious/noExplicitAny: the generated document is walked as plain JSON
type Json = any;

const jsonMediaType = "application/json";

export const openApiVersion = "3.1.0";

/** The plugin's document, as a valid OpenAPI 3.1 document (a new object; the input is left as it is). */
export function toOpenApi31(generated: Json): Json {
  const doc = structuredClone(generated);
  doc.openapi = openApiVersion;
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const operation of Object.values<Json>(item)) {
      if (typeof operation.operationId === "string") operation.operationId = camelCase(operation.operationId);
      for (const parameter of operation.parameters ?? []) parameter.schema = mapSchema(parameter.schema);
      if (operation.requestBody) operation.requestBody.content = jsonOnly(operation.requestBody.content);
      for (const response of Object.values<Json>(operation.responses ?? {})) {
        if (!response.content) continue;
        response.content = jsonOnly(response.content);
        const media = response.content[jsonMediaType];
        if (media) media.schema = closeObjects(media.schema);
      }
    }
  }
  return doc;
}

function camelCase(id: string): string {
  return id.replace(/-([a-z0-9])/gi, (_, next: string) => next.toUpperCase());
}

function jsonOnly(content: Json): Json {
  const media = content?.[jsonMediaType];
  if (!media) return content;
  return { [jsonMediaType]: { ...media, schema: mapSchema(media.schema) } };
}

/** A schema with Elysia's coercion unions and `nullable` mapped to JSON Schema, at every depth. */
function mapSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(mapSchema);
  if (schema === null || typeof schema !== "object") return schema;
  const mapped: Json = {};
  for (const [key, value] of Object.entries<Json>(schema)) {
    // The plugin leaves keys holding undefined (`type` among them), which would hide the mapped ones.
    if (key === "nullable" || value === undefined) continue;
    mapped[key] = key === "properties" ? mapEach(value) : mapSchema(value);
  }
  const numeric = coercedNumber(mapped);
  if (numeric) {
    const { anyOf: _, ...rest } = mapped;
    return { ...numeric, ...rest };
  }
  return mapped;
}

function mapEach(properties: Json): Json {
  return Object.fromEntries(Object.entries<Json>(properties).map(([name, s]) => [name, mapSchema(s)]));
}

/** `{ anyOf: [{ type: "string", format: "integer" | "numeric" }, number] }` → the number schema. */
function coercedNumber(schema: Json): Json | undefined {
  const options = schema.anyOf;
  if (!Array.isArray(options) || options.length !== 2) return undefined;
  const [asString, asNumber] = options;
  const coercion =
    asString?.type === "string" && (asString.format === "integer" || asString.format === "numeric");
  const number = asNumber?.type === "integer" || asNumber?.type === "number";
  return coercion && number ? asNumber : undefined;
}

/** Every object schema in a response closed to undeclared properties. */
function closeObjects(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== "object") return schema;
  const closed: Json = {};
  for (const [key, value] of Object.entries<Json>(schema))
    closed[key] =
      key === "properties"
        ? Object.fromEntries(Object.entries<Json>(value).map(([n, s]) => [n, closeObjects(s)]))
        : closeObjects(value);
  if (closed.type === "object" && closed.properties && closed.additionalProperties === undefined)
    closed.additionalProperties = false;
  return closed;
}
