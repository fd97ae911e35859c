import { auditOperations, auditQueue, type Bus, type Subscription, serve } from "@secrets/bus";
import type { Shipper } from "../shipper/shipper.ts";

/**
 * Serves `auditOperations.status` in the audit queue group. Whichever process answers gives its own
 * view: the lease holder reports `active: true`, a standby false (the consumer's figures are shared).
 */
export function serveAuditStatus(bus: Bus, shipper: Pick<Shipper, "status">): Subscription {
  return serve(bus, auditOperations.status, { queue: auditQueue }, () => shipper.status());
}
