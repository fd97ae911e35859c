import { AuditEventName } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { InvalidateCache } from "../cache/cache-invalidation.ts";
import type { ExpiryDal } from "./expiry-dal.ts";

export interface PendingExpiryOptions {
  /** Pending tokens and access requests older than this are removed; 0 keeps them forever. */
  maxAgeMs: number;
  checkIntervalMs: number;
  now?: () => number;
}

const system = { actor: "system:expiry", requestId: "", ipAddress: "", userAgent: "" };

/**
 * Removes service tokens and access requests that waited longer than `maxAgeMs` for an admin. A service
 * that still runs registers again (or asks again) and shows up as new; each removal is audited.
 */
export function createPendingExpiry(deps: {
  dal: ExpiryDal;
  audit: Pick<AdminAudit, "change">;
  /** Tells every vault's cache which tokens and access requests are gone. */
  invalidate: InvalidateCache;
  logger: Logger;
  options: PendingExpiryOptions;
}) {
  const { options } = deps;
  const now = options.now ?? Date.now;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> | undefined;

  async function expireOnce(): Promise<{ tokens: number; accessRequests: number }> {
    if (options.maxAgeMs <= 0) return { tokens: 0, accessRequests: 0 };
    const before = new Date(now() - options.maxAgeMs);
    const tokens = await deps.dal.expirePendingTokens(before);
    const requests = await deps.dal.expirePendingAccessRequests(before);
    if (tokens.length + requests.length > 0) {
      await deps.invalidate({
        tokenIds: tokens.map((token) => token.id),
        accessRequests: requests.map((request) => ({
          secretId: request.secretId,
          serviceName: request.serviceName,
        })),
      });
    }
    for (const token of tokens) {
      const facts = {
        ...system,
        event: AuditEventName.tokenExpire,
        targetId: token.id,
        serviceName: token.serviceName,
      };
      await deps.audit.change(facts, async () => ({ result: undefined }));
    }
    for (const request of requests) {
      const facts = {
        ...system,
        event: AuditEventName.accessExpire,
        targetId: request.id,
        secretId: request.secretId,
        secretName: request.secretName,
        serviceName: request.serviceName,
      };
      await deps.audit.change(facts, async () => ({ result: undefined }));
    }
    if (tokens.length + requests.length > 0) {
      deps.logger.info("expired pending approvals", {
        tokens: tokens.length,
        accessRequests: requests.length,
      });
    }
    return { tokens: tokens.length, accessRequests: requests.length };
  }

  return {
    expireOnce,
    start(): void {
      if (options.maxAgeMs <= 0) return;
      const tick = () => {
        running ??= expireOnce()
          .catch((error: unknown) => deps.logger.warn("expiring pending approvals will retry", { error }))
          .finally(() => {
            running = undefined;
          });
      };
      tick();
      timer = setInterval(tick, options.checkIntervalMs);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
