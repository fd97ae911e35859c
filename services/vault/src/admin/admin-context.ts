import { invalidArgument } from "@secrets/bus";
/**
 * The acting admin (resolved by the vault from the operation's credential: `admin-resolver.ts`) and the
 * request they made, as every admin event records them.
 */
export interface Admin {
  actor: string;
  requestId: string;
  ipAddress: string;
  userAgent: string;
}

/** Page size from a request: 0 means the default; more than the maximum is refused. */
export function pageLimit(limit: number, field = "limit"): number {
  if (limit === 0) return 100;
  if (limit < 0 || limit > 1000)
    throw invalidArgument([{ field, description: "must be between 1 and 1000" }]);
  return limit;
}
