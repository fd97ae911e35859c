/**
 * Data access for the rewrap: rows whose value is under a key other than the current one, and
 * conditional updates that move one row to a new envelope only if nobody changed it meanwhile.
 */
import { and, count, eq, isNotNull, ne, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/connection.ts";
import { secrets, secretVersions } from "../db/schema.ts";

export interface WrappedRow {
  secretId: string;
  version: number;
  keyId: number;
  valueEncrypted: Uint8Array;
}

/** A row read under `row.keyId`, re-encrypted to `envelope` under `keyId`. */
export interface RewrapMove {
  row: WrappedRow;
  envelope: Uint8Array;
  keyId: number;
}

function movedValues(moves: RewrapMove[]): SQL {
  const rows = moves.map(
    ({ row, envelope, keyId }) =>
      sql`(${row.secretId}::text, ${row.version}::int, ${row.keyId}::bigint, ${envelope}::bytea, ${keyId}::bigint)`,
  );
  return sql`(values ${sql.join(rows, sql`, `)}) as moved(secret_id, version, old_key, envelope, new_key)`;
}

/** postgres.js returns the rows; PGlite a result with `rows`. */
function rowsOf(result: unknown): unknown[] {
  return Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
}

const rowCount = (result: unknown) => rowsOf(result).length;

export function createRewrapDal({ db }: { db: Database }) {
  return {
    /** Current values under another key, at most `limit`. */
    async secretsToRewrap(activeKeyId: number, limit: number): Promise<WrappedRow[]> {
      const rows = await db
        .select({
          secretId: secrets.id,
          version: secrets.version,
          keyId: secrets.keyId,
          valueEncrypted: secrets.valueEncrypted,
        })
        .from(secrets)
        .where(and(isNotNull(secrets.valueEncrypted), ne(secrets.keyId, activeKeyId)))
        .limit(limit);
      return rows.flatMap((row) =>
        row.valueEncrypted && row.keyId !== null
          ? [{ ...row, keyId: row.keyId, valueEncrypted: row.valueEncrypted }]
          : [],
      );
    },

    /** Kept versions under another key, at most `limit`. */
    async versionsToRewrap(activeKeyId: number, limit: number): Promise<WrappedRow[]> {
      return db
        .select({
          secretId: secretVersions.secretId,
          version: secretVersions.version,
          keyId: secretVersions.keyId,
          valueEncrypted: secretVersions.valueEncrypted,
        })
        .from(secretVersions)
        .where(ne(secretVersions.keyId, activeKeyId))
        .limit(limit);
    },

    /**
     * Moves current values to their new envelopes in one statement, each only if nobody changed it since
     * it was read (same version, same key); `updated_at` is left alone. Resolves how many moved.
     */
    async rewrapSecrets(moves: RewrapMove[]): Promise<number> {
      if (moves.length === 0) return 0;
      const updated = await db.execute(sql`
        update ${secrets} set value_encrypted = moved.envelope, key_id = moved.new_key
        from ${movedValues(moves)}
        where ${secrets.id} = moved.secret_id and ${secrets.version} = moved.version and ${secrets.keyId} = moved.old_key
        returning ${secrets.id}`);
      return rowCount(updated);
    },

    /** The same for kept versions. */
    async rewrapVersions(moves: RewrapMove[]): Promise<number> {
      if (moves.length === 0) return 0;
      const updated = await db.execute(sql`
        update ${secretVersions} set value_encrypted = moved.envelope, key_id = moved.new_key
        from ${movedValues(moves)}
        where ${secretVersions.secretId} = moved.secret_id and ${secretVersions.version} = moved.version
          and ${secretVersions.keyId} = moved.old_key
        returning ${secretVersions.secretId}`);
      return rowCount(updated);
    },

    /** Rows (current values and kept versions) whose value is under `keyId`. */
    async rowsUnderKey(keyId: number): Promise<number> {
      const [current] = await db.select({ n: count() }).from(secrets).where(eq(secrets.keyId, keyId));
      const [kept] = await db
        .select({ n: count() })
        .from(secretVersions)
        .where(eq(secretVersions.keyId, keyId));
      return (current?.n ?? 0) + (kept?.n ?? 0);
    },

    /** Rows not yet under the current key. */
    async pending(activeKeyId: number): Promise<number> {
      const [current] = await db
        .select({ n: count() })
        .from(secrets)
        .where(and(isNotNull(secrets.valueEncrypted), ne(secrets.keyId, activeKeyId)));
      const [kept] = await db
        .select({ n: count() })
        .from(secretVersions)
        .where(ne(secretVersions.keyId, activeKeyId));
      return (current?.n ?? 0) + (kept?.n ?? 0);
    },
  };
}

export type RewrapDal = ReturnType<typeof createRewrapDal>;

/**
 * Runs `work` in a transaction holding every advisory lock in `locks`, or resolves undefined at once when
 * another session holds any of them: with several vault replicas, one rotates or rewraps at a time.
 * Try-locks never wait, so taking several cannot deadlock.
 */
export function withAdvisoryLock<T>(
  db: Database,
  locks: readonly number[],
  work: (dal: RewrapDal) => Promise<T>,
): Promise<T | undefined> {
  return db.transaction(async (tx) => {
    for (const lock of locks) {
      const result = await tx.execute(sql`select pg_try_advisory_xact_lock(${lock}) as acquired`);
      // postgres.js returns the rows; PGlite a result with `rows`.
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
        acquired: boolean;
      }[];
      // Returning ends the transaction, which releases any lock already taken.
      if (!rows[0]?.acquired) return undefined;
    }
    return work(createRewrapDal({ db: tx }));
  });
}
