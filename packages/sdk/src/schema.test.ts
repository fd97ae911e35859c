import { describe, expect, it } from "vitest";
import { validateSchema } from "./schema.ts";

describe("validateSchema", () => {
  it("reads the secrets.schema.json form, in declaration order", () => {
    const result = validateSchema({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        STRIPE_API_KEY: { type: "string", description: "Stripe API key for payment processing" },
        DATABASE_URL: { type: "string", description: "Database connection string" },
      },
    });
    expect(result).toEqual({
      entries: [
        { key: "STRIPE_API_KEY", description: "Stripe API key for payment processing" },
        { key: "DATABASE_URL", description: "Database connection string" },
      ],
      problems: [],
    });
  });

  it("reads the short { KEY: description } form", () => {
    expect(
      validateSchema({ STRIPE_API_KEY: "Stripe API key", DATABASE_URL: "Database connection string" }),
    ).toEqual({
      entries: [
        { key: "STRIPE_API_KEY", description: "Stripe API key" },
        { key: "DATABASE_URL", description: "Database connection string" },
      ],
      problems: [],
    });
    expect(validateSchema({})).toEqual({ entries: [], problems: [] });
  });

  it("names every problem with its key", () => {
    const { problems } = validateSchema({
      type: "object",
      propertes: {},
      properties: {
        lower_case: { type: "string", description: "x" },
        NO_DESCRIPTION: { type: "string" },
        EMPTY_DESCRIPTION: { type: "string", description: "  " },
        NUMBER: { type: "number", description: "a number" },
        LONG: { type: "string", description: "é".repeat(513) },
        CONTROL: { type: "string", description: "bell \u0007" },
        NOT_AN_OBJECT: "a description",
      },
    });
    expect(problems).toEqual([
      { key: "", problem: 'unknown field "propertes"' },
      { key: "lower_case", problem: expect.stringContaining("name must match ^[A-Z][A-Z0-9_]{0,127}$") },
      { key: "NO_DESCRIPTION", problem: expect.stringContaining("needs a description") },
      { key: "EMPTY_DESCRIPTION", problem: expect.stringContaining("needs a description") },
      { key: "NUMBER", problem: '"type" must be "string"' },
      { key: "LONG", problem: "description must be at most 1024 bytes" },
      { key: "CONTROL", problem: "description must not contain control characters" },
      { key: "NOT_AN_OBJECT", problem: expect.stringContaining("must be an object") },
    ]);
  });

  it("refuses what is not a schema", () => {
    expect(validateSchema([]).problems).toEqual([{ key: "", problem: "must be a JSON object" }]);
    expect(validateSchema({ type: "array", properties: [] }).problems).toEqual([
      { key: "", problem: '"type" must be "object"' },
      { key: "", problem: '"properties" must be an object of secrets' },
    ]);
    // Files must use the JSON Schema form.
    expect(validateSchema({ A: "description" }, "json").problems.map((p) => p.problem)).toContain(
      '"type" must be "object"',
    );
    expect(validateSchema({ A: 1 }).problems).toEqual([
      { key: "A", problem: expect.stringContaining("needs a description") },
    ]);
  });
});
