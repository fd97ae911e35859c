import { BusReply } from "@secrets/proto/bus";
import { BusError, ErrorCode } from "./errors.ts";

/** A successful reply. */
export function encodeOk(payload: Uint8Array): Uint8Array {
  return BusReply.encode({
    payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  }).finish();
}

/**
 * An error reply. A BusError keeps its code, reason, message and violations; anything else is an internal
 * failure whose detail stays in the server's log and never crosses the bus.
 */
export function encodeError(error: unknown): Uint8Array {
  const busError = error instanceof BusError ? error : internalError();
  return BusReply.encode({
    error: {
      code: busError.code,
      message: busError.message,
      reason: busError.reason,
      violations: [...busError.violations],
    },
  }).finish();
}

function internalError(): BusError {
  return new BusError(ErrorCode.INTERNAL, "The service failed to handle the request; see its log");
}

/** The reply's payload, or the BusError it carries. */
export function decodeReply(bytes: Uint8Array): Uint8Array {
  let reply: BusReply;
  try {
    reply = BusReply.decode(bytes);
  } catch (cause) {
    throw new BusError(ErrorCode.INTERNAL, "Received a malformed reply on the bus", { cause });
  }
  if (reply.error) {
    const { code, message, reason, violations } = reply.error;
    throw new BusError(code, message, { reason, violations });
  }
  return reply.payload ?? new Uint8Array(0);
}
