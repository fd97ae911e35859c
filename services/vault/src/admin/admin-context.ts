import { invalidArgument } from "@secrets/bus";
import type { AdminContext } from "@secrets/proto/admin";
import { limits } from "@secrets/validation";
/** The acting admin and the request they made, as every admin event records them. */
export interface Admin {
  actor: string;
  requestId: string;
  ipAddress: string;
  userAgent: string;
}

/** The acting admin, checked at the bus boundary: every admin operation is attributed to someone. */
export function adminFacts(admin: AdminContext | undefined): Admin {
  const actor = admin?.actor ?? "";
  if (actor.trim() === "" || actor.length > limits.actorMaxLength) {
    throw invalidArgument([
      { field: "admin.actor", description: `must name the admin (1–${limits.actorMaxLength} characters)` },
    ]);
  }
  return {
    actor,
    requestId: admin?.requestId ?? "",
    ipAddress: admin?.ipAddress ?? "",
    userAgent: admin?.userAgent ?? "",
  };
}

/** Page size from a request: 0 means the default; more than the maximum is refused. */
export function pageLimit(limit: number, field = "limit"): number {
  if (limit === 0) return 100;
  if (limit < 0 || limit > 1000)
    throw invalidArgument([{ field, description: "must be between 1 and 1000" }]);
  return limit;
}
