/**
 * Data access for secrets. Values arrive and leave encrypted (keyring envelopes); nothing here encrypts,
 * decrypts or decides who may do what.
 */
import { and, asc, eq, getTableColumns, gt, ilike, inArray, isNull, or, sql } from "drizzle-orm";
import { insertPendingAccessRequest, refuseAtPendingLimit } from "../access-requests/access-requests-dal.ts";
import type { Database } from "../db/connection.ts";
import { checkLimit, decodeCursor, encodeCursor, escapeLike, type Page, toPage } from "../db/cursor.ts";
import { lockPendingQueue, serializedPerQueue } from "../db/pending-limits.ts";
import { type AccessRequest, accessRequests, type Secret, secrets } from "../db/schema.ts";

/** A new secret: either with a value and the id of the key it is encrypted under, or with neither. */
export type NewSecret = {
  id: string;
  name: string;
  description?: string;
  createdBy: string;
  isStub?: boolean;
} & (
  | { valueEncrypted: Uint8Array; keyId: number; version: number }
  | { valueEncrypted: null; keyId: null; version?: 0 }
);

/** Changes to a secret; a value always comes with the id of the key it is encrypted under and its version. */
export type SecretChanges = { description?: string } & (
  | { valueEncrypted?: never; keyId?: never; version?: never }
  | { valueEncrypted: Uint8Array; keyId: number; version: number }
);

/** A secret in a list: no ciphertext, but whether it has a value and which services asked for it. */
export type SecretListItem = Omit<Secret, "valueEncrypted"> & {
  hasValue: boolean;
  /** Service names with an access request for this secret, sorted. */
  requestedBy: string[];
};

export interface SecretListRequest {
  /** Case-insensitive substring of the name or the description; matched literally. */
  query?: string | undefined;
  /** Only stubs that still have no value: the secrets services are waiting for. */
  missingOnly?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface StubResult {
  secret: Secret;
  /** False when the secret already existed (created by an admin, or by a concurrent request). */
  stubCreated: boolean;
  accessRequest: AccessRequest;
}

const { valueEncrypted: _ciphertext, ...listedColumns } = getTableColumns(secrets);

/** A concurrent delete can remove the row between the insert and the read; try again a few times. */
const stubAttempts = 3;

export function createSecretsDal({ db }: { db: Database }) {
  const findByName = db
    .select()
    .from(secrets)
    .where(eq(secrets.name, sql.placeholder("name")))
    .prepare("secrets_find_by_name");

  async function requestersOf(secretIds: string[]): Promise<Map<string, string[]>> {
    const requesters = new Map<string, string[]>(secretIds.map((id) => [id, []]));
    if (secretIds.length === 0) return requesters;
    const rows = await db
      .select({ secretId: accessRequests.secretId, serviceName: accessRequests.serviceName })
      .from(accessRequests)
      .where(inArray(accessRequests.secretId, secretIds))
      .orderBy(asc(accessRequests.serviceName));
    for (const row of rows) requesters.get(row.secretId)?.push(row.serviceName);
    return requesters;
  }

  return {
    /** Service names with an access request for each of these secrets, sorted. */
    requestersOf,

    async findByName(name: string): Promise<Secret | undefined> {
      const [row] = await findByName.execute({ name });
      return row;
    },

    /** The secrets with these names (those that exist), in one query: GetSecrets warms its lookups with it. */
    async findManyByName(names: readonly string[]): Promise<Secret[]> {
      if (names.length === 0) return [];
      return db
        .select()
        .from(secrets)
        .where(inArray(secrets.name, [...names]));
    },

    async findById(id: string): Promise<Secret | undefined> {
      const [row] = await db.select().from(secrets).where(eq(secrets.id, id));
      return row;
    },

    /** Inserts a secret; a duplicate name fails with PostgreSQL's unique violation (23505). */
    async insert(input: NewSecret): Promise<Secret> {
      const [row] = await db.insert(secrets).values(input).returning();
      if (!row) throw new Error(`Inserting secret "${input.name}" returned no row`);
      return row;
    },

    /**
     * Applies `changes` and bumps `updated_at`; undefined when no such secret exists, or when
     * `currentVersion` is given and the stored version is another (a concurrent change won).
     */
    async update(id: string, changes: SecretChanges, currentVersion?: number): Promise<Secret | undefined> {
      const [row] = await db
        .update(secrets)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(
          and(
            eq(secrets.id, id),
            currentVersion === undefined ? undefined : eq(secrets.version, currentVersion),
          ),
        )
        .returning();
      return row;
    },

    /** Deletes the secret and, by cascade, its access requests; returns whether it existed. */
    async remove(id: string): Promise<boolean> {
      const rows = await db.delete(secrets).where(eq(secrets.id, id)).returning({ id: secrets.id });
      return rows.length > 0;
    },

    /** Secrets ordered by name, one page at a time. */
    async list(request: SecretListRequest): Promise<Page<SecretListItem>> {
      const limit = checkLimit(request.limit);
      const pattern = request.query ? `%${escapeLike(request.query)}%` : undefined;
      const rows = await db
        .select({ ...listedColumns, hasValue: sql<boolean>`${secrets.valueEncrypted} is not null` })
        .from(secrets)
        .where(
          and(
            request.cursor === undefined
              ? undefined
              : gt(secrets.name, decodeCursor(request.cursor, 1)[0] ?? ""),
            pattern === undefined
              ? undefined
              : or(ilike(secrets.name, pattern), ilike(secrets.description, pattern)),
            request.missingOnly ? and(eq(secrets.isStub, true), isNull(secrets.valueEncrypted)) : undefined,
          ),
        )
        .orderBy(asc(secrets.name))
        .limit(limit + 1);
      const page = toPage(rows, limit, (row) => encodeCursor([row.name]));
      const requesters = await requestersOf(page.items.map((row) => row.id));
      return {
        ...page,
        items: page.items.map((row) => ({ ...row, requestedBy: requesters.get(row.id) ?? [] })),
      };
    },

    /**
     * Records that `serviceName` asked for a secret `name` that may not exist: in one transaction, creates
     * the stub unless the name exists, then a pending access request unless one exists. Safe to call
     * concurrently for the same name: exactly one secret and one request result. With `pendingLimit`, a
     * new request (and the stub it would come with) is refused with PendingLimitReachedError once the
     * service has that many pending requests; the service's queue lock makes the count exact.
     */
    async createStubWithAccessRequest(input: {
      name: string;
      description: string;
      serviceName: string;
      /** Pending requests the service may have; absent: no limit. */
      pendingLimit?: number;
    }): Promise<StubResult> {
      const limited = input.pendingLimit !== undefined;
      const create = () =>
        db.transaction(async (tx) => {
          if (limited) await lockPendingQueue(tx, "accessRequests", input.serviceName);
          for (let attempt = 1; attempt <= stubAttempts; attempt++) {
            // KEY SHARE keeps a concurrent delete from removing the row before the request references it.
            const [found] = await tx
              .select()
              .from(secrets)
              .where(eq(secrets.name, input.name))
              .for("key share");
            const [existing] = found
              ? await tx
                  .select()
                  .from(accessRequests)
                  .where(
                    and(
                      eq(accessRequests.secretId, found.id),
                      eq(accessRequests.serviceName, input.serviceName),
                    ),
                  )
              : [];
            if (found && existing) return { secret: found, stubCreated: false, accessRequest: existing };
            if (input.pendingLimit !== undefined)
              await refuseAtPendingLimit(tx, input.serviceName, input.pendingLimit);
            const [created] = found
              ? [undefined]
              : await tx
                  .insert(secrets)
                  .values({
                    id: Bun.randomUUIDv7(),
                    name: input.name,
                    description: input.description,
                    createdBy: input.serviceName,
                    isStub: true,
                  })
                  .onConflictDoNothing({ target: secrets.name })
                  .returning();
            const secret = found ?? created;
            // Created concurrently by an admin or another service: look again.
            if (secret === undefined) continue;
            const accessRequest = await insertPendingAccessRequest(tx, {
              secretId: secret.id,
              serviceName: input.serviceName,
            });
            return { secret, stubCreated: created !== undefined, accessRequest };
          }
          throw new Error(`Could not create or find secret "${input.name}": it was deleted repeatedly`);
        });
      return limited ? serializedPerQueue("accessRequests", input.serviceName, create) : create();
    },
  };
}

export type SecretsDal = ReturnType<typeof createSecretsDal>;
