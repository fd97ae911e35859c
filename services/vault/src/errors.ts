import { BusError, ErrorCode } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { InvalidCursorError } from "./db/cursor.ts";
import { pgErrorCode } from "./db/errors.ts";

/** Driver error codes and SQLSTATE classes that mean "the database cannot be reached right now". */
const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

/** True when the error says the database is unreachable or shutting down (not a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const sqlState = pgErrorCode(error);
  if (sqlState) return sqlState.startsWith("08") || sqlState.startsWith("57P");
  const code = errorCode(error);
  return code !== undefined && connectionCodes.has(code);
}

/**
 * SQLSTATEs of text PostgreSQL cannot hold (NUL, invalid UTF-8): the input's fault, whatever carried it
 * (an id, a search, a cursor), found by test/hardening/fuzz/admin-api-fuzz.test.ts.
 */
const unstorableTextCodes = new Set(["22021", "22P05"]);

/**
 * The one place where the vault's internal failures become errors that may cross the bus. A BusError
 * passes as is; an unreachable database is UNAVAILABLE; text the database cannot hold is INVALID_ARGUMENT;
 * anything else is INTERNAL, logged here with its detail and sent without it.
 */
export function toBusError(error: unknown, logger: Logger, operation: string): BusError {
  if (error instanceof BusError) return error;
  if (error instanceof InvalidCursorError) return new BusError(ErrorCode.INVALID_ARGUMENT, error.message);
  if (unstorableTextCodes.has(pgErrorCode(error) ?? "")) {
    return new BusError(
      ErrorCode.INVALID_ARGUMENT,
      "The request holds characters that cannot be stored or searched for (such as NUL)",
      { cause: error },
    );
  }
  if (isDatabaseUnavailable(error)) {
    logger.error("database unavailable", { operation, error });
    return new BusError(ErrorCode.UNAVAILABLE, "The vault's database is unavailable; try again shortly", {
      cause: error,
    });
  }
  logger.error("operation failed", { operation, error });
  return new BusError(ErrorCode.INTERNAL, "The vault failed to handle the request; see its log", {
    cause: error,
  });
}
