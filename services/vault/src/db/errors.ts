/**
 * Recognising database errors by SQLSTATE code.
 *
 * drizzle wraps driver errors in a `DrizzleQueryError` whose message quotes the SQL and its parameters
 * (ciphertext, token hashes). Never log or return such a message: map the code, log the code.
 */

export const PgErrorCode = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
} as const;
export type PgErrorCode = (typeof PgErrorCode)[keyof typeof PgErrorCode];

/** The SQLSTATE of a PostgreSQL or PGlite error, looking through wrappers; undefined for other errors. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}
