/**
 * Hostile input for the property-based tests: random Unicode (astral planes, lone surrogates, bidi and
 * zero-width characters), NUL and control bytes, oversized strings, injection-shaped text, wrong types and
 * deep JSON, mixed with valid values so that runs also get past validation to the vault.
 *
 * `FUZZ_RUNS` sets the runs per property (a quick subset by default; `bun run test:fuzz` runs thousands)
 * and `FUZZ_SEED` replays a failure (fast-check prints the seed and path of every counterexample).
 */
import fc from "fast-check";

/** Runs per property: a quick subset in `bun run test`, more with FUZZ_RUNS. */
export const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 30);

/** fast-check parameters for every property: the runs, and the seed to replay when FUZZ_SEED is set. */
export function fuzzParameters(runs = fuzzRuns): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
  return { numRuns: runs, endOnFailure: true, ...seed };
}

/** How long a property may take: a minute and a half for the quick subset, longer for a long run. */
export const fuzzTimeoutMs = Math.max(90_000, fuzzRuns * 1_500);

const specials = [
  "\u0000",
  "\u0001",
  "\u0008",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\u200b",
  "\u200d",
  "\u202e",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "\r\n",
  "\t",
  "é",
  "e\u0301",
];

const injections = [
  "' OR '1'='1",
  "'; DROP TABLE secrets; --",
  "%s%s%s%n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder is the hostile input here
  "${process.env}",
  "{{7*7}}",
  "../../../../etc/passwd",
  '"} |= "" or {service=~".+"',
  '{"$ne":null}',
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "\\u0000",
  "%00",
  "\\",
  '"',
  "NaN",
  "-1",
  "1e309",
  "0x7fffffff",
  "null",
  "true",
];

/** A string of any Unicode, with control characters, lone surrogates and other troublemakers mixed in. */
export const hostileText = (maxLength = 64): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        { arbitrary: fc.string({ unit: "binary", maxLength: 8 }), weight: 3 },
        { arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }), weight: 2 },
        { arbitrary: fc.constantFrom(...specials), weight: 2 },
        { arbitrary: fc.constantFrom(...injections), weight: 1 },
      ),
      { maxLength: Math.max(1, Math.ceil(maxLength / 6)) },
    )
    .map((parts) => parts.join(""));

/** Far beyond every limit (16 KiB messages, 64 KiB values, 192 KiB bodies), in several shapes. */
export const oversizedText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("A", "é", "\u0000", "🔑", "ab_", "\ud800"),
    fc.constantFrom(300, 1_100, 17 * 1024, 70 * 1024, 200 * 1024),
  )
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)));

/** Well-formed values, so that inputs also reach the code behind validation. */
export const validSecretName = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/);
export const validServiceName = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
export const validToken = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString("base64url"));

/** Any string worth sending in a text field: hostile, oversized, valid, empty. */
export const anyText = (valid: fc.Arbitrary<string>[] = []): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: hostileText(), weight: 4 },
    { arbitrary: fc.constant(""), weight: 1 },
    { arbitrary: oversizedText, weight: 1 },
    ...valid.map((arbitrary) => ({ arbitrary, weight: 3 })),
  );

/** A JSON value of a type other than the one expected, or of no particular type. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0, 1e308),
  hostileText(),
  fc.jsonValue({ maxDepth: 4 }),
  fc.array(hostileText(), { maxLength: 5 }),
  fc.dictionary(hostileText(16), hostileText(16), { maxKeys: 5 }),
);

/** JSON text nested `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}`. */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.constantFrom(64, 1_000, 10_000, 100_000))
  .map(([arrays, depth]) =>
    arrays ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
  );

/** Percent-encodes the UTF-8 of any string (lone surrogates included, as U+FFFD) for a URL path or query. */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, "0").toUpperCase()}`,
    )
    .join("");
}
