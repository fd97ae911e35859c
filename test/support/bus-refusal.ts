/**
 * A refused bus call as tests compare it: the code and reason by name, the message and the field
 * violations as the caller received them.
 */
import { BusError, ErrorCode, type FieldViolation, Reason } from "@secrets/bus";

export interface Refusal {
  /** The `ErrorCode` name, e.g. "PERMISSION_DENIED". */
  code: string;
  /** The `Reason` name; "UNSPECIFIED" when the refusal gives none. */
  reason: string;
  message: string;
  violations: readonly FieldViolation[];
}

/** The refusal `error` describes; anything but a `BusError` is thrown on, so a test sees the real failure. */
export function refusalOf(error: unknown): Refusal {
  if (!(error instanceof BusError)) throw error;
  return {
    code: ErrorCode[error.code],
    reason: Reason[error.reason],
    message: error.message,
    violations: error.violations,
  };
}

/**
 * The refusal `call` ends in; throws when it succeeds instead.
 *
 * @example
 * expect(await refusal(getSecret(token, "MISSING"))).toMatchObject({ code: "NOT_FOUND" });
 */
export function refusal(call: Promise<unknown>): Promise<Refusal> {
  return call.then(() => {
    throw new Error("expected a refusal");
  }, refusalOf);
}
