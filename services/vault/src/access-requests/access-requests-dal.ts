/**
 * Data access for access requests: one row per (secret, service name), whose status says whether that
 * service may read that secret. Status transition rules live in the service layer, not here.
 */
import { and, count, eq, getTableColumns, gte, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import type { Page, PageRequest } from "../db/cursor.ts";
import { newestFirstKeyset } from "../db/keyset-page.ts";
import {
  lockPendingQueue,
  type PendingLimitHit,
  PendingLimitReachedError,
  serializedPerQueue,
} from "../db/pending-limits.ts";
import { recordUsage } from "../db/record-usage.ts";
import { type AccessRequest, type AccessRequestStatus, accessRequests, secrets } from "../db/schema.ts";

/** An access request with the name of the secret it is for. */
export type AccessRequestWithSecret = AccessRequest & { secretName: string };

export interface AccessRequestUsage {
  id: string;
  count: number;
  lastAccessedAt: Date;
}

const withSecretName = { ...getTableColumns(accessRequests), secretName: secrets.name };

const findRequest = (db: Database, secretId: string, serviceName: string) =>
  db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.secretId, secretId), eq(accessRequests.serviceName, serviceName)));

/**
 * Inserts a pending request for (secret, service) unless one exists, and returns the row either way.
 * Takes the database or a transaction, so that stub creation can use it inside its own transaction.
 */
export async function insertPendingAccessRequest(
  db: Database,
  input: { secretId: string; serviceName: string },
): Promise<AccessRequest> {
  const [inserted] = await db
    .insert(accessRequests)
    .values({ id: Bun.randomUUIDv7(), ...input, status: "pending" })
    .onConflictDoNothing({ target: [accessRequests.secretId, accessRequests.serviceName] })
    .returning();
  if (inserted) return inserted;
  const [existing] = await findRequest(db, input.secretId, input.serviceName);
  // Only possible when the secret is deleted at this very moment (the request cascades with it).
  if (!existing)
    throw new Error(
      `The secret "${input.secretId}" was deleted while service "${input.serviceName}" requested it`,
    );
  return existing;
}

/**
 * Inside a transaction that holds the service's queue lock (`lockPendingQueue`): refuses with
 * PendingLimitReachedError when the service already has `limit` pending requests. The caller inserts the
 * new request in the same transaction, so no concurrent request can take the same place.
 */
export async function refuseAtPendingLimit(tx: Database, serviceName: string, limit: number): Promise<void> {
  const [row] = await tx
    .select({ pending: count() })
    .from(accessRequests)
    .where(and(eq(accessRequests.serviceName, serviceName), eq(accessRequests.status, "pending")));
  const pending = row?.pending ?? 0;
  if (pending >= limit)
    throw new PendingLimitReachedError({ scope: "service", key: serviceName, pending, limit });
}

export function createAccessRequestsDal({ db }: { db: Database }) {
  const findBySecretAndService = db
    .select()
    .from(accessRequests)
    .where(
      and(
        eq(accessRequests.secretId, sql.placeholder("secretId")),
        eq(accessRequests.serviceName, sql.placeholder("serviceName")),
      ),
    )
    .prepare("access_requests_find");

  return {
    /** The request of `serviceName` for the secret `secretId`: the hot-path permission check. */
    async find(secretId: string, serviceName: string): Promise<AccessRequest | undefined> {
      const [row] = await findBySecretAndService.execute({ secretId, serviceName });
      return row;
    },

    /** The requests of `serviceName` for these secrets (those that exist), in one query. */
    async findMany(secretIds: readonly string[], serviceName: string): Promise<AccessRequest[]> {
      if (secretIds.length === 0) return [];
      return db
        .select()
        .from(accessRequests)
        .where(
          and(inArray(accessRequests.secretId, [...secretIds]), eq(accessRequests.serviceName, serviceName)),
        );
    },

    async findById(id: string): Promise<AccessRequest | undefined> {
      const [row] = await db.select().from(accessRequests).where(eq(accessRequests.id, id));
      return row;
    },

    /** Inserts a pending request unless one exists, without a limit: granting ahead of a request starts here. */
    insertPending: (input: { secretId: string; serviceName: string }) =>
      insertPendingAccessRequest(db, input),

    /**
     * A service asking for an existing secret: its request, inserted as pending unless one exists; a new
     * one is refused (PendingLimitReachedError) once the service has `limit` pending requests.
     */
    requestAccess(input: { secretId: string; serviceName: string }, limit: number): Promise<AccessRequest> {
      return serializedPerQueue("accessRequests", input.serviceName, () =>
        db.transaction(async (tx) => {
          // Locked before looking: a concurrent request for the same pair then finds this one's row.
          await lockPendingQueue(tx, "accessRequests", input.serviceName);
          const [existing] = await findRequest(tx, input.secretId, input.serviceName);
          if (existing) return existing;
          await refuseAtPendingLimit(tx, input.serviceName, limit);
          return insertPendingAccessRequest(tx, input);
        }),
      );
    },

    /** Services with at least `limit` pending requests: what the dashboard shows as full. */
    async pendingLimitsReached(limit: number): Promise<PendingLimitHit[]> {
      const pending = count();
      const rows = await db
        .select({ serviceName: accessRequests.serviceName, pending })
        .from(accessRequests)
        .where(eq(accessRequests.status, "pending"))
        .groupBy(accessRequests.serviceName)
        .having(gte(pending, limit))
        .orderBy(accessRequests.serviceName);
      return rows.map((row) => ({ scope: "service", key: row.serviceName, pending: row.pending, limit }));
    },

    /** Sets the status; granting also records when and by whom. Undefined when no such request exists. */
    async decide(
      id: string,
      status: Exclude<AccessRequestStatus, "pending">,
      actor: string,
    ): Promise<AccessRequestWithSecret | undefined> {
      const changes = status === "granted" ? { status, grantedAt: sql`now()`, grantedBy: actor } : { status };
      const [row] = await db
        .update(accessRequests)
        .set(changes)
        .from(secrets)
        .where(and(eq(accessRequests.id, id), eq(secrets.id, accessRequests.secretId)))
        .returning(withSecretName);
      return row;
    },

    /** Requests, newest first, optionally with one status. */
    async list(
      request: PageRequest & { status?: AccessRequestStatus | undefined },
    ): Promise<Page<AccessRequestWithSecret>> {
      const keyset = newestFirstKeyset(request, { at: accessRequests.requestedAt, id: accessRequests.id });
      const rows = await db
        .select(withSecretName)
        .from(accessRequests)
        .innerJoin(secrets, eq(secrets.id, accessRequests.secretId))
        .where(
          and(
            request.status === undefined ? undefined : eq(accessRequests.status, request.status),
            keyset.after,
          ),
        )
        .orderBy(...keyset.orderBy)
        .limit(keyset.fetchLimit);
      return keyset.page(rows, (row) => row.requestedAt);
    },

    /** Adds batched read counts; `last_accessed_at` never moves backwards. */
    async recordUsage(entries: readonly AccessRequestUsage[]): Promise<void> {
      await recordUsage(
        db,
        accessRequests,
        { id: accessRequests.id, count: accessRequests.accessCount, lastAt: accessRequests.lastAccessedAt },
        entries.map((entry) => ({ ...entry, at: entry.lastAccessedAt })),
      );
    },

    /** Remembers the description the service last sent; returns whether the request exists. */
    async setRequestedDescription(id: string, description: string): Promise<boolean> {
      const rows = await db
        .update(accessRequests)
        .set({ requestedDescription: description })
        .where(eq(accessRequests.id, id))
        .returning({ id: accessRequests.id });
      return rows.length > 0;
    },
  };
}

export type AccessRequestsDal = ReturnType<typeof createAccessRequestsDal>;
