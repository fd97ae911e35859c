/**
 * Limits on the queues an outsider can add to (pending service tokens, pending access requests and the
 * stubs they come with). A limit holds under concurrency because counting and inserting happen in one
 * transaction that holds a PostgreSQL advisory lock on the queue: two registrations cannot both see
 * "2 pending" and both insert the third. PGlite runs one transaction at a time, and takes the same lock.
 */
import { BusError, ErrorCode } from "@secrets/bus";
import { sql } from "drizzle-orm";
import type { Database } from "./connection.ts";

/** What a queue is counted by. `all` is every pending token, whatever its name or address. */
export type PendingLimitScope = "service" | "address" | "all";

/** A queue at its limit: `pending` items counted against `limit`. */
export interface PendingLimitHit {
  scope: PendingLimitScope;
  /** The service name or client address counted; empty for `all`. */
  key: string;
  pending: number;
  limit: number;
}

/** The configured limits; see the vault's configuration (MAX_PENDING_*). */
export interface PendingLimits {
  tokensPerService: number;
  tokensPerAddress: number;
  /** Every pending token: the last bound when many addresses register. */
  tokensTotal: number;
  requestsPerService: number;
}

/** Thrown inside the queue's transaction, so nothing of the refused insert is kept. */
export class PendingLimitReachedError extends Error {
  override readonly name = "PendingLimitReachedError";
  constructor(readonly hit: PendingLimitHit) {
    super(`${hit.scope} ${hit.key} has ${hit.pending} pending items, its limit of ${hit.limit}`);
  }
}

/** First key of the two-key advisory lock: one per queue, so the queues never wait on each other. */
const lockSpace = { tokens: 0x5ec70001, accessRequests: 0x5ec70002 } as const;

/**
 * Holds the lock on a queue until the transaction ends. Tokens use one lock for every registration (they
 * are rare, and the total limit spans all names); access requests one per service name.
 */
export async function lockPendingQueue(
  tx: Database,
  queue: keyof typeof lockSpace,
  serviceName = "",
): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${lockSpace[queue]}::int, hashtext(${serviceName}))`);
}

/** The defaults of MAX_PENDING_TOKENS_PER_SERVICE, _PER_ADDRESS and MAX_PENDING_REQUESTS_PER_SERVICE. */
export const defaultPendingLimits = {
  tokensPerService: 3,
  tokensPerAddress: 10,
  requestsPerService: 100,
} as const satisfies Omit<PendingLimits, "tokensTotal">;

/** The tail of each queue's chain of waiting transactions in this process. */
const localTails = new Map<string, Promise<unknown>>();

/**
 * Longest wait for a turn. The advisory lock, not this chain, keeps the limit, so work that waited this
 * long is refused (its caller's deadline has passed by then) instead of piling up behind a transaction
 * that a database outage left hanging.
 */
export const maxQueueWaitMs = 5_000;

/**
 * Runs `work` (a transaction that takes the queue's advisory lock) after this process's earlier work on
 * the same queue. Without it, 500 requests of one service opened 500 transactions that each held a pool
 * connection while waiting for the lock, starving everything else (and tripping postgres.js, which then
 * pipelined a BEGIN behind a busy connection: UNSAFE_TRANSACTION). The advisory lock still orders work
 * across vault replicas; this only keeps one process from queueing inside the database. A turn that does
 * not come within `maxWaitMs` fails with UNAVAILABLE, so an outage cannot leave a backlog behind it.
 */
export function serializedPerQueue<T>(
  queue: string,
  key: string,
  work: () => Promise<T>,
  maxWaitMs = maxQueueWaitMs,
): Promise<T> {
  const id = `${queue}\u0000${key}`;
  const previous = localTails.get(id) ?? Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<"waited">((resolve) => {
    timer = setTimeout(() => resolve("waited"), maxWaitMs);
  });
  const turn = Promise.race([
    previous.then(
      () => "turn" as const,
      () => "turn" as const,
    ),
    waited,
  ]);
  const run = turn.then((outcome) => {
    clearTimeout(timer);
    if (outcome === "waited") {
      throw new BusError(
        ErrorCode.UNAVAILABLE,
        "The vault is busy with this service's requests; try again shortly",
      );
    }
    return work();
  });
  const tail = run.catch(() => {});
  localTails.set(id, tail);
  void tail.then(() => {
    if (localTails.get(id) === tail) localTails.delete(id);
  });
  return run;
}
