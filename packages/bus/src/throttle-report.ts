/**
 * Calls refused on a spent budget are not sent to the vault one by one (that is the flood the budget
 * stops), but each is counted: per method, budget, token and address, a summary goes to the vault
 * (`report-throttled`: the gateway's service operation, or the admin API's admin operation), which writes
 * one `calls.throttled` audit event for it. A summary is sent once its refusals have paused for `quietMs`
 * or it is `maxWindowMs` old, so a burst becomes one event.
 */
import type { Logger } from "@secrets/logger";
import type {
  ThrottledCalls,
  VaultReportThrottledReply,
  VaultReportThrottledRequest,
} from "@secrets/proto/vault";
import type { Bus } from "./bus.ts";
import { forwardedTokenPrefix } from "./forwarded-token.ts";
import type { Operation } from "./operations.ts";
import { request } from "./typed.ts";

export type ThrottleBudget = "token" | "address";

export interface ThrottleReport {
  /** Counts one refused call. `tokenHash` is the token's hex SHA-256 ("" for the address budget). */
  count(method: string, budget: ThrottleBudget, tokenHash: string, address: string): void;
}

export interface ThrottleReportDeps {
  bus: Bus;
  /** Where summaries go: `serviceOperations.reportThrottled` (gateway) or `adminOperations.reportThrottled`. */
  operation: Operation<VaultReportThrottledRequest, VaultReportThrottledReply>;
  logger: Logger;
  now?: () => number;
  /** A summary is sent after its refusals paused this long; default 2 s. */
  quietMs?: number;
  /** …or once it is this old; default 60 s. */
  maxWindowMs?: number;
  /** Summaries kept at most; more refusals are counted in one per method and budget. Default 10,000. */
  maxEntries?: number;
}

/** Entries per report (the vault's bound). */
const entriesPerReport = 100;

export function createThrottleReport(deps: ThrottleReportDeps): ThrottleReport & {
  /** Sends every summary that is due (all of them with `everything`). */
  flush(everything?: boolean): Promise<void>;
  close(): Promise<void>;
} {
  const now = deps.now ?? Date.now;
  const quietMs = deps.quietMs ?? 2_000;
  const maxWindowMs = deps.maxWindowMs ?? 60_000;
  const maxEntries = deps.maxEntries ?? 10_000;
  const entries = new Map<string, ThrottledCalls>();

  const keyOf = (entry: Pick<ThrottledCalls, "method" | "budget" | "token" | "ipAddress">) =>
    `${entry.method}\n${entry.budget}\n${entry.token}\n${entry.ipAddress}`;

  function count(method: string, budget: ThrottleBudget, tokenHash: string, address: string): void {
    const at = now();
    let summary = {
      method,
      budget,
      token: tokenHash === "" ? "" : forwardedTokenPrefix + tokenHash,
      ipAddress: address,
    };
    if (!entries.has(keyOf(summary)) && entries.size >= maxEntries)
      summary = { method, budget, token: "", ipAddress: "" };
    const key = keyOf(summary);
    const entry = entries.get(key);
    if (entry) {
      entry.count++;
      entry.lastMs = at;
      return;
    }
    entries.set(key, { ...summary, count: 1, firstMs: at, lastMs: at });
  }

  async function flush(everything = false): Promise<void> {
    const at = now();
    const due: ThrottledCalls[] = [];
    for (const [key, entry] of entries) {
      if (everything || at - entry.lastMs >= quietMs || at - entry.firstMs >= maxWindowMs) {
        due.push(entry);
        entries.delete(key);
      }
    }
    for (let start = 0; start < due.length; start += entriesPerReport) {
      const batch = due.slice(start, start + entriesPerReport);
      try {
        await request(deps.bus, deps.operation, { entries: batch }, { timeoutMs: 5_000 });
      } catch (error) {
        deps.logger.warn("could not report throttled calls to the vault; keeping them for the next try", {
          error,
          entries: batch.length,
        });
        for (const entry of batch) {
          const key = keyOf(entry);
          if (entries.size < maxEntries && !entries.has(key)) entries.set(key, entry);
        }
      }
    }
  }

  let flushing: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      if (entries.size === 0 || flushing) return;
      flushing = flush().finally(() => {
        flushing = undefined;
      });
    },
    Math.max(100, Math.min(quietMs, 1_000)),
  );
  timer.unref?.();

  return {
    count,
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await flush(true);
    },
  };
}
