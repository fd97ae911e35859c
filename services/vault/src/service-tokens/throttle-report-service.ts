/**
 * Summaries of calls a gateway (or the admin API) refused on a spent budget (`report-throttled`): one
 * `calls.throttled` audit event per entry, naming the service when the token is a known service token, so the trail counts every attempt of
 * a flood without one durable event per call. The gateway already refused the calls; this only records.
 */
import { AuditEventName, forwardedTokenHash, invalidArgument } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { ThrottledCalls } from "@secrets/proto/vault";
import type { AuditRecorder } from "../audit/audit-recorder.ts";
import type { ServiceTokensDal } from "./service-tokens-dal.ts";
import { hashesMatch } from "./token-hash.ts";

/** Entries one report may hold; a gateway sends its summaries in reports of at most this many. */
export const maxThrottleReportEntries = 100;

/** What a gateway reports: its RPCs. */
export const gatewayThrottledMethods: ReadonlySet<string> = new Set([
  "GetSecret",
  "GetSecrets",
  "RegisterToken",
  "WatchSecrets",
]);
/** What the admin API reports: Bearer credentials, session cookies and sign-ins (POST /session). */
export const adminThrottledMethods: ReadonlySet<string> = new Set([
  "admin-token",
  "admin-session",
  "admin-login",
]);
const budgets = new Set(["token", "address"]);

export interface ThrottleReportDeps {
  /** The methods this reporter may name; each reporter gets its own set, so neither can pose as the other. */
  methods: ReadonlySet<string>;
  /** Names the service of a refused service token; absent for admin credentials (no service to name). */
  serviceTokens?: Pick<ServiceTokensDal, "findByHash">;
  recorder: Pick<AuditRecorder, "record">;
  logger: Logger;
}

function problems(entries: readonly ThrottledCalls[], methods: ReadonlySet<string>) {
  if (entries.length > maxThrottleReportEntries)
    return [{ field: "entries", description: `must hold at most ${maxThrottleReportEntries} entries` }];
  return entries.flatMap((entry, index) => {
    const field = (name: string) => `entries[${index}].${name}`;
    const found = [];
    if (!methods.has(entry.method)) found.push({ field: field("method"), description: "unknown RPC" });
    if (!budgets.has(entry.budget)) found.push({ field: field("budget"), description: "unknown budget" });
    if (!(entry.count >= 1)) found.push({ field: field("count"), description: "must be at least 1" });
    if (entry.token !== "" && forwardedTokenHash(entry.token) === undefined)
      found.push({ field: field("token"), description: "must be a forwarded token hash" });
    return found;
  });
}

export function createThrottleReportService(deps: ThrottleReportDeps) {
  async function serviceNameOf(token: string): Promise<string> {
    const hash = forwardedTokenHash(token);
    if (hash === undefined || !deps.serviceTokens) return "";
    const row = await deps.serviceTokens.findByHash(hash).catch(() => undefined);
    return row && hashesMatch(row.tokenHash, hash) ? row.serviceName : "";
  }

  return async function reportThrottled(entries: readonly ThrottledCalls[]): Promise<void> {
    const found = problems(entries, deps.methods);
    if (found.length > 0) throw invalidArgument(found);
    await Promise.all(
      entries.map(async (entry) => {
        const first = new Date(Number(entry.firstMs)).toISOString();
        const last = new Date(Number(entry.lastMs)).toISOString();
        await deps.recorder.record({
          event: AuditEventName.callsThrottled,
          success: false,
          reason: "RATE_LIMITED",
          serviceName: await serviceNameOf(entry.token),
          ipAddress: entry.ipAddress,
          subject: `${entry.method} refused on the ${entry.budget} budget from ${first} to ${last}`,
          refusedCalls: entry.count,
        });
      }),
    );
  };
}
