import { ErrorCode, type FieldViolation, Reason } from "@secrets/proto/bus";

export { ErrorCode, type FieldViolation, Reason };

/** Names of error codes as written in logs and messages. */
export function errorCodeName(code: ErrorCode): string {
  return ErrorCode[code] ?? "UNRECOGNIZED";
}

/** The machine reason's wire name (`TOKEN_PENDING_APPROVAL`), or "" when unspecified. */
export function reasonName(reason: Reason): string {
  return reason === Reason.UNSPECIFIED ? "" : (Reason[reason] ?? "");
}

/**
 * The one error class that crosses the bus. Callers test `code` (and `reason`), never the message.
 * The message is written for the user and never holds a secret, a token, SQL, a stack or a key id.
 */
export class BusError extends Error {
  override readonly name = "BusError";
  readonly code: ErrorCode;
  readonly reason: Reason;
  readonly violations: readonly FieldViolation[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { reason?: Reason; violations?: FieldViolation[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason ?? Reason.UNSPECIFIED;
    this.violations = options.violations ?? [];
  }
}

/** True when `error` is a BusError, and with `code` when one is given. */
export function isBusError(error: unknown, code?: ErrorCode): error is BusError {
  return error instanceof BusError && (code === undefined || error.code === code);
}

/** INVALID_ARGUMENT listing the failing fields. */
export function invalidArgument(violations: FieldViolation[]): BusError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new BusError(ErrorCode.INVALID_ARGUMENT, `Invalid request: ${summary}`, { violations });
}
