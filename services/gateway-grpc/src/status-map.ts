/**
 * The one table from the bus's closed set of error codes to gRPC status codes, and the one place where a
 * failure becomes what the client sees. Messages from a BusError are written for the user and pass
 * through; bus-level failures get a message about the vault; anything internal or unexpected becomes a
 * generic INTERNAL whose detail stays in the gateway's log.
 */
import { status } from "@grpc/grpc-js";
import { BusError, ErrorCode, errorCodeName, reasonName } from "@secrets/bus";

/** Trailing metadata key holding the machine reason (`TOKEN_PENDING_APPROVAL`, ...). */
export const reasonMetadataKey = "secrets-reason";
/** Metadata key holding the call's request id, sent as initial and trailing metadata. */
export const requestIdMetadataKey = "secrets-request-id";

/** What the client receives for a failed call. */
export interface GrpcFailure {
  code: status;
  message: string;
  /** The Reason's wire name, or "" when there is none (then no trailer is sent). */
  reason: string;
  /** For the gateway's log only, never sent: what really went wrong when the client sees INTERNAL. */
  detail?: string;
}

/** A failure the gateway decides itself, with a gRPC status the bus has no code for (DEADLINE_EXCEEDED). */
export class GatewayFailure extends Error {
  override readonly name = "GatewayFailure";
  constructor(
    readonly code: status,
    message: string,
    readonly reason = "",
  ) {
    super(message);
  }
}

interface Row {
  code: status;
  /** Replaces the BusError's message; absent: the BusError's own message passes through. */
  message?: string;
}

const vaultUnavailable = "The vault is unavailable right now; try again shortly";

const statusTable: Record<ErrorCode, Row> = {
  [ErrorCode.INVALID_ARGUMENT]: { code: status.INVALID_ARGUMENT },
  [ErrorCode.UNAUTHENTICATED]: { code: status.UNAUTHENTICATED },
  [ErrorCode.PERMISSION_DENIED]: { code: status.PERMISSION_DENIED },
  [ErrorCode.NOT_FOUND]: { code: status.NOT_FOUND },
  [ErrorCode.CONFLICT]: { code: status.ABORTED },
  [ErrorCode.FAILED_PRECONDITION]: { code: status.FAILED_PRECONDITION },
  [ErrorCode.RESOURCE_EXHAUSTED]: { code: status.RESOURCE_EXHAUSTED },
  [ErrorCode.UNAVAILABLE]: { code: status.UNAVAILABLE },
  [ErrorCode.TIMEOUT]: {
    code: status.UNAVAILABLE,
    message: "The vault did not answer in time; try again shortly",
  },
  [ErrorCode.NO_RESPONDERS]: {
    code: status.UNAVAILABLE,
    message: "The vault is not answering (no vault is running); try again shortly",
  },
  [ErrorCode.INTERNAL]: { code: status.INTERNAL },
  [ErrorCode.UNSPECIFIED]: { code: status.INTERNAL },
  [ErrorCode.UNRECOGNIZED]: { code: status.INTERNAL },
};

/** Longest message passed through from the vault. */
const messageMaxLength = 1_024;

function internal(requestId: string, detail: string): GrpcFailure {
  return {
    code: status.INTERNAL,
    message: `The gateway could not handle the request (request id ${requestId}); its log has the details`,
    reason: "",
    detail,
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error)
    return `${error.name}: ${error.message}${error.cause ? ` (cause: ${describeError(error.cause)})` : ""}`;
  return String(error);
}

/** What the client sees for `error`. */
export function toGrpcFailure(error: unknown, requestId: string): GrpcFailure {
  if (error instanceof GatewayFailure)
    return { code: error.code, message: error.message, reason: error.reason };
  if (!(error instanceof BusError)) return internal(requestId, describeError(error));
  const row = statusTable[error.code] ?? statusTable[ErrorCode.UNRECOGNIZED];
  if (row.code === status.INTERNAL) {
    return internal(requestId, `${errorCodeName(error.code)} from the bus: ${describeError(error)}`);
  }
  const reason = reasonName(error.reason);
  // A vault that is up but cannot serve explains itself through a reason (AUDIT_UNAVAILABLE); without one
  // the message may come from the bus itself and name internal subjects, so the client gets a plain one.
  const message =
    row.message ?? (row.code === status.UNAVAILABLE && reason === "" ? vaultUnavailable : error.message);
  return { code: row.code, message: message.slice(0, messageMaxLength), reason };
}
