/**
 * The caller of a request as the vault records it in the audit trail: one shape (the proto's
 * `CallerContext`), built the same way by every front door (the gRPC gateway, the admin API).
 */
import type { CallerContext } from "@secrets/proto/vault";

export type { CallerContext };

/**
 * The `CallerContext` of a request: its id and client address as given, its user agent cut to
 * `userAgentMaxLength` (it lands in the audit trail; the vault cuts every field again).
 *
 * @example
 * callerContextOf({ requestId, ipAddress: "10.0.0.7", userAgent: "sdk/1.0" }, 256)
 */
export function callerContextOf(caller: CallerContext, userAgentMaxLength: number): CallerContext {
  return {
    requestId: caller.requestId,
    ipAddress: caller.ipAddress,
    userAgent: caller.userAgent.slice(0, userAgentMaxLength),
  };
}
