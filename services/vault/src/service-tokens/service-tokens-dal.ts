/**
 * Data access for service tokens. Only the hex SHA-256 of a token is stored and looked up; status
 * transition rules live in the service layer, not here.
 */

import { addressKey } from "@secrets/validation";
import { and, count, eq, getTableColumns, gte, ne, sql } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import type { Page, PageRequest } from "../db/cursor.ts";
import { newestFirstKeyset } from "../db/keyset-page.ts";
import {
  lockPendingQueue,
  type PendingLimitHit,
  PendingLimitReachedError,
  type PendingLimits,
  serializedPerQueue,
} from "../db/pending-limits.ts";
import { recordUsage } from "../db/record-usage.ts";
import { accessRequests, type ServiceToken, type ServiceTokenStatus, serviceTokens } from "../db/schema.ts";

/** A token as the admin sees it before approving: with the granted access requests of its service name. */
export type ServiceTokenWithInheritedAccess = ServiceToken & {
  /** Granted access requests of the same service name, which this token uses once approved. */
  inheritedAccessRequests: number;
};

export interface NewServiceToken {
  id: string;
  serviceName: string;
  serviceVersion: string;
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  /** The client address the registration came from; empty when unknown. */
  clientAddress?: string;
}

type TokenLimits = Pick<PendingLimits, "tokensPerService" | "tokensPerAddress" | "tokensTotal">;

export interface ServiceTokenUsage {
  id: string;
  count: number;
  lastUsedAt: Date;
}

/** `table.column`, spelled out: drizzle leaves the columns of a single-table select unqualified. */
const qualified = (table: typeof serviceTokens | typeof accessRequests, column: { name: string }) =>
  sql`${table}.${sql.identifier(column.name)}`;

/** Correlated count, served by the (service_name, status) index of access_requests. */
const inheritedAccessRequests = sql<number>`(
  select count(*) from ${accessRequests}
  where ${qualified(accessRequests, accessRequests.serviceName)} = ${qualified(serviceTokens, serviceTokens.serviceName)}
    and ${qualified(accessRequests, accessRequests.status)} = 'granted'
)`.mapWith(Number);

export function createServiceTokensDal({ db }: { db: Database }) {
  const findByHash = db
    .select()
    .from(serviceTokens)
    .where(eq(serviceTokens.tokenHash, sql.placeholder("tokenHash")))
    .prepare("service_tokens_find_by_hash");

  return {
    /** The token with this hash: every authenticated request starts here. */
    async findByHash(tokenHash: string): Promise<ServiceToken | undefined> {
      const [row] = await findByHash.execute({ tokenHash });
      return row;
    },

    async findById(id: string): Promise<ServiceToken | undefined> {
      const [row] = await db.select().from(serviceTokens).where(eq(serviceTokens.id, id));
      return row;
    },

    /** The token with the granted access requests of its service name, as an admin sees it before deciding. */
    async findWithInheritedAccess(id: string): Promise<ServiceTokenWithInheritedAccess | undefined> {
      const [row] = await db
        .select({ ...getTableColumns(serviceTokens), inheritedAccessRequests })
        .from(serviceTokens)
        .where(eq(serviceTokens.id, id));
      return row;
    },

    /** Stores a pending token; false when a token with the same hash already exists. */
    async insertPending(input: NewServiceToken): Promise<boolean> {
      const rows = await db
        .insert(serviceTokens)
        .values({ ...input, status: "pending" })
        .onConflictDoNothing({ target: serviceTokens.tokenHash })
        .returning({ id: serviceTokens.id });
      return rows.length > 0;
    },

    /**
     * Stores a pending token unless its hash exists (false then), in one transaction under the tokens'
     * queue lock: refused with PendingLimitReachedError when its service name, its client address or all
     * pending tokens together are at their limit, so concurrent registrations never exceed one.
     */
    insertPendingWithinLimits(input: NewServiceToken, limits: TokenLimits): Promise<boolean> {
      return serializedPerQueue("tokens", "", () =>
        db.transaction(async (tx) => {
          await lockPendingQueue(tx, "tokens");
          const [known] = await tx
            .select({ id: serviceTokens.id })
            .from(serviceTokens)
            .where(eq(serviceTokens.tokenHash, input.tokenHash));
          if (known) return false;
          const address = input.clientAddress ?? "";
          const [counts] = await tx
            .select({
              total: count(),
              service:
                sql<number>`count(*) filter (where ${serviceTokens.serviceName} = ${input.serviceName})`.mapWith(
                  Number,
                ),
            })
            .from(serviceTokens)
            .where(eq(serviceTokens.status, "pending"));
          // Counted by address key (an IPv6 client by its /64), so one client's many addresses are one.
          // Pending tokens are few (at most MAX_PENDING_TOKENS), so they are keyed here, not in SQL.
          const key = addressKey(address);
          const fromAddress =
            address === ""
              ? 0
              : (
                  await tx
                    .select({ clientAddress: serviceTokens.clientAddress })
                    .from(serviceTokens)
                    .where(and(eq(serviceTokens.status, "pending"), ne(serviceTokens.clientAddress, "")))
                ).filter((row) => addressKey(row.clientAddress) === key).length;
          const checks: PendingLimitHit[] = [
            {
              scope: "service",
              key: input.serviceName,
              pending: counts?.service ?? 0,
              limit: limits.tokensPerService,
            },
            // An unknown address (a caller that sent none) is not one client: only the other limits apply.
            ...(address === ""
              ? []
              : [
                  {
                    scope: "address" as const,
                    key,
                    pending: fromAddress,
                    limit: limits.tokensPerAddress,
                  },
                ]),
            { scope: "all", key: "", pending: counts?.total ?? 0, limit: limits.tokensTotal },
          ];
          const hit = checks.find((check) => check.pending >= check.limit);
          if (hit) throw new PendingLimitReachedError(hit);
          await tx.insert(serviceTokens).values({ ...input, clientAddress: address, status: "pending" });
          return true;
        }),
      );
    },

    /** Service names and client addresses with at least their limit of pending tokens. */
    async pendingLimitsReached(limits: Pick<TokenLimits, "tokensPerService" | "tokensPerAddress">) {
      const pending = count();
      const pendingOnly = eq(serviceTokens.status, "pending");
      const byService = await db
        .select({ key: serviceTokens.serviceName, pending })
        .from(serviceTokens)
        .where(pendingOnly)
        .groupBy(serviceTokens.serviceName)
        .having(gte(pending, limits.tokensPerService))
        .orderBy(serviceTokens.serviceName);
      const perAddress = new Map<string, number>();
      const pendingAddresses = await db
        .select({ clientAddress: serviceTokens.clientAddress })
        .from(serviceTokens)
        .where(and(pendingOnly, ne(serviceTokens.clientAddress, "")));
      for (const { clientAddress } of pendingAddresses) {
        const key = addressKey(clientAddress);
        perAddress.set(key, (perAddress.get(key) ?? 0) + 1);
      }
      const byAddress = [...perAddress]
        .filter(([, count]) => count >= limits.tokensPerAddress)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, count]) => ({ key, pending: count }));
      return [
        ...byService.map(
          (row): PendingLimitHit => ({ scope: "service", ...row, limit: limits.tokensPerService }),
        ),
        ...byAddress.map(
          (row): PendingLimitHit => ({ scope: "address", ...row, limit: limits.tokensPerAddress }),
        ),
      ];
    },

    async countPending(): Promise<number> {
      const [row] = await db
        .select({ pending: count() })
        .from(serviceTokens)
        .where(eq(serviceTokens.status, "pending"));
      return row?.pending ?? 0;
    },

    /** Sets the status; approval also records when and by whom. Undefined when no such token exists. */
    async setStatus(
      id: string,
      status: ServiceTokenStatus,
      actor: string,
    ): Promise<ServiceToken | undefined> {
      const changes =
        status === "approved" ? { status, approvedAt: sql`now()`, approvedBy: actor } : { status };
      const [row] = await db.update(serviceTokens).set(changes).where(eq(serviceTokens.id, id)).returning();
      return row;
    },

    /** Tokens, newest first, optionally with one status. */
    async list(
      request: PageRequest & { status?: ServiceTokenStatus | undefined },
    ): Promise<Page<ServiceTokenWithInheritedAccess>> {
      const keyset = newestFirstKeyset(request, { at: serviceTokens.requestedAt, id: serviceTokens.id });
      const rows = await db
        .select({ ...getTableColumns(serviceTokens), inheritedAccessRequests })
        .from(serviceTokens)
        .where(
          and(
            request.status === undefined ? undefined : eq(serviceTokens.status, request.status),
            keyset.after,
          ),
        )
        .orderBy(...keyset.orderBy)
        .limit(keyset.fetchLimit);
      return keyset.page(rows, (row) => row.requestedAt);
    },

    /** Adds batched use counts; `last_used_at` never moves backwards. */
    async recordUsage(entries: readonly ServiceTokenUsage[]): Promise<void> {
      await recordUsage(
        db,
        serviceTokens,
        { id: serviceTokens.id, count: serviceTokens.accessCount, lastAt: serviceTokens.lastUsedAt },
        entries.map((entry) => ({ ...entry, at: entry.lastUsedAt })),
      );
    },
  };
}

export type ServiceTokensDal = ReturnType<typeof createServiceTokensDal>;
