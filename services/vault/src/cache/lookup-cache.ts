/**
 * The vault's cached lookups on the GetSecret path: service tokens by hash, secrets by name, access
 * requests by (secret, service). See README.md in this folder for how they stay correct across replicas.
 */
import type { CacheInvalidation } from "@secrets/proto/vault";
import type { AccessRequestsDal } from "../access-requests/access-requests-dal.ts";
import type { AccessRequest, Secret, ServiceToken } from "../db/schema.ts";
import type { SecretsDal } from "../secrets/secrets-dal.ts";
import type { ServiceTokensDal } from "../service-tokens/service-tokens-dal.ts";
import { TtlCache, type TtlCacheOptions } from "./ttl-cache.ts";

export type LookupCacheOptions = TtlCacheOptions;

/** The key of an access request: one per (secret id, service name). */
export const accessRequestKey = (secretId: string, serviceName: string) => `${secretId}\u0000${serviceName}`;

export function createLookupCache(options: LookupCacheOptions) {
  const tokens = new TtlCache<string, ServiceToken>(options);
  const secrets = new TtlCache<string, Secret>(options);
  const accessRequests = new TtlCache<string, AccessRequest>(options);

  return {
    tokens,
    secrets,
    accessRequests,
    /** Drops what a change made stale. */
    apply(change: CacheInvalidation): void {
      if (change.all) {
        tokens.clear();
        secrets.clear();
        accessRequests.clear();
        return;
      }
      if (change.tokenIds.length > 0) {
        const ids = new Set(change.tokenIds);
        tokens.deleteWhere((row) => ids.has(row.id));
      }
      for (const name of change.secretNames) secrets.delete(name);
      if (change.secretIds.length > 0) {
        const ids = new Set(change.secretIds);
        secrets.deleteWhere((row) => ids.has(row.id));
        accessRequests.deleteWhere((row) => ids.has(row.secretId));
      }
      for (const request of change.accessRequests)
        accessRequests.delete(accessRequestKey(request.secretId, request.serviceName));
    },
  };
}

export type LookupCache = ReturnType<typeof createLookupCache>;

/** The lookups the request path makes, answered from the cache when it can. */
export function cachedLookups(
  cache: LookupCache,
  dals: {
    serviceTokens: Pick<ServiceTokensDal, "findByHash">;
    secrets: Pick<SecretsDal, "findByName" | "findManyByName">;
    accessRequests: Pick<AccessRequestsDal, "find" | "findMany">;
  },
) {
  return {
    findTokenByHash: (tokenHash: string) =>
      cache.tokens.getOrLoad(tokenHash, () => dals.serviceTokens.findByHash(tokenHash)),
    findSecretByName: (name: string) => cache.secrets.getOrLoad(name, () => dals.secrets.findByName(name)),
    /** Reads the secret from the database again (its cached row was stale), and caches that. */
    async refreshSecretByName(name: string): Promise<Secret | undefined> {
      cache.secrets.delete(name);
      return cache.secrets.getOrLoad(name, () => dals.secrets.findByName(name));
    },
    /**
     * Loads what a batch will look up (its secrets, and `serviceName`'s requests for them) in two queries,
     * into the cache, so the per-secret decisions that follow find them there.
     */
    async warm(secretNames: readonly string[], serviceName: string): Promise<void> {
      await cache.secrets.loadMany(secretNames, async (missing) => {
        const rows = await dals.secrets.findManyByName(missing);
        return new Map(rows.map((row) => [row.name, row]));
      });
      const ids = secretNames.flatMap((name) => {
        const secret = cache.secrets.get(name);
        return secret ? [secret.id] : [];
      });
      const idOfKey = new Map(ids.map((id) => [accessRequestKey(id, serviceName), id]));
      await cache.accessRequests.loadMany([...idOfKey.keys()], async (missing) => {
        const missingIds = missing.flatMap((key) => idOfKey.get(key) ?? []);
        const rows = await dals.accessRequests.findMany(missingIds, serviceName);
        return new Map(rows.map((row) => [accessRequestKey(row.secretId, row.serviceName), row]));
      });
    },
    findAccess: (secretId: string, serviceName: string) =>
      cache.accessRequests.getOrLoad(accessRequestKey(secretId, serviceName), () =>
        dals.accessRequests.find(secretId, serviceName),
      ),
  };
}

export type CachedLookups = ReturnType<typeof cachedLookups>;
