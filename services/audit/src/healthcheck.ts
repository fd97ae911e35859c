/**
 * Container healthcheck: `bun services/audit/src/healthcheck.ts` exits 0 when an audit service answers
 * its status request on the bus, 1 otherwise. Reads the same environment as the audit service.
 */
import { auditOperations, busConfigChecks, probeBus, request } from "@secrets/bus";
import { parseConfigOrExit } from "@secrets/config";
import { auditConfigSpec } from "./config.ts";

const config = parseConfigOrExit(auditConfigSpec, process.env, busConfigChecks);
const healthy = await probeBus(config, "audit-healthcheck", (bus) =>
  request(bus, auditOperations.status, {}, { timeoutMs: 3_000 }),
);
process.exit(healthy ? 0 : 1);
