/**
 * Telling every vault replica what changed, so none serves a stale token, secret or access request from its cache.
 */
import { type Bus, cacheInvalidatedTopic, publish, type Subscription, subscribe } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { CacheInvalidation } from "@secrets/proto/vault";
import type { LookupCache } from "./lookup-cache.ts";

/** What changed; fields left out are empty. */
export type CacheChange = Partial<CacheInvalidation>;

/**
 * Invalidates every replica's cached lookups that a committed change affects; resolves once other replicas
 * will see it before any later request.
 */
export type InvalidateCache = (change: CacheChange) => Promise<void>;

export function createCacheInvalidator(deps: {
  bus: Bus;
  cache: Pick<LookupCache, "apply">;
  logger: Logger;
}) {
  function send(change: CacheChange): void {
    const message = CacheInvalidation.fromPartial(change);
    deps.cache.apply(message);
    publish(deps.bus, cacheInvalidatedTopic, message);
  }

  return {
    /**
     * Drops the entries here, publishes the change, and waits until the NATS server has it. NATS delivers a
     * publisher's messages in order, and a replica's messages in the order the server routes them, so a
     * request that the admin's next action causes reaches every replica after the invalidation. If the bus
     * cannot confirm, the entries' TTL still bounds how long another replica may serve them.
     */
    invalidate: (async (change) => {
      send(change);
      await deps.bus.flush().catch((error: unknown) => {
        deps.logger.warn(
          "could not confirm a cache invalidation; other vaults drop it within the cache TTL",
          {
            error,
          },
        );
      });
    }) satisfies InvalidateCache,

    /** The same, without waiting (a change made on the request path, whose staleness is harmless). */
    invalidateUnconfirmed: send,

    /** Applies the changes other replicas (and this one) publish. */
    listen(): Subscription {
      return subscribe(
        deps.bus,
        cacheInvalidatedTopic,
        (change) => deps.cache.apply(change),
        (error) => deps.logger.warn("ignored a malformed cache invalidation", { error }),
      );
    },
  };
}

export type CacheInvalidator = ReturnType<typeof createCacheInvalidator>;
