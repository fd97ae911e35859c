import { AuditEventName, BusError, ErrorCode, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { Admin } from "../admin/admin-context.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { Database } from "../db/connection.ts";
import type { Keyring } from "../keyring/index.ts";
import { createRewrapDal, type RewrapMove, type WrappedRow, withAdvisoryLock } from "./rewrap-dal.ts";

/**
 * Advisory lock ids (any fixed numbers, the same in every vault). `keyFileLock` is the one lock for every
 * change to the key file (rotation and retirement): replicas sharing a key directory and a database never
 * write the file at the same time, and each change re-reads the file under it.
 */
export const keyFileLock = 0x5ec7e7_01;
const rewrapLock = 0x5ec7e7_02;

export interface KeyRotationOptions {
  /** Rotate when the current key is this old (KEY_ROTATION_INTERVAL_DAYS). */
  rotationIntervalMs: number;
  /** How often the schedule, the rewrap and key retirement are looked at. */
  checkIntervalMs: number;
  /** Rows moved per transaction. */
  batchSize: number;
  /** A previous key is removed only once it has not been current for this long (every replica has had
   *  time to pick up the new one) and no row uses it. */
  retireGraceMs: number;
  now?: () => number;
}

export interface KeyRotationDeps {
  db: Database;
  keyring: Keyring;
  audit: Pick<AdminAudit, "change">;
  logger: Logger;
  options: KeyRotationOptions;
}

function rotationInProgress(pending: number | undefined): BusError {
  const what =
    pending === undefined
      ? "another vault is rotating the key right now"
      : `${pending} values are still being re-encrypted under the current key`;
  return new BusError(
    ErrorCode.FAILED_PRECONDITION,
    `A key rotation is in progress: ${what}. Rotate again once the rewrap has finished (pending 0)`,
    { reason: Reason.ROTATION_IN_PROGRESS },
  );
}

/** How long an admin's rotation waits for the key-file lock before it answers ROTATION_IN_PROGRESS. */
const adminLockWaitMs = 2_000;

const system: Admin = { actor: "system:key-rotation", requestId: "", ipAddress: "", userAgent: "" };

/**
 * Encryption-key rotation: a new key every `rotationIntervalMs` or on demand; a background rewrap that
 * re-encrypts rows still under older keys in small transactions (reads and writes go on meanwhile: a row
 * is always decryptable, under its old key until its update commits); and the removal of a previous key
 * once no row uses it. Killing the vault at any point leaves every row under a key that is still in the key
 * file; the next start resumes the rewrap.
 */
export function createKeyRotation(deps: KeyRotationDeps) {
  const { db, keyring, logger, options } = deps;
  const dal = createRewrapDal({ db });
  const now = options.now ?? Date.now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /**
   * Rotates under the rotation lock: on an admin's request, or when the key is due. One rotation at a time:
   * while values are still under an older key (the last rotation's rewrap is running) or another vault
   * holds the lock beyond `adminLockWaitMs`, an admin's request is refused with FAILED_PRECONDITION (ROTATION_IN_PROGRESS) and the
   * schedule waits for its next check, so repeated requests cannot pile up keys and rewrap passes.
   */
  async function rotate(admin: Admin | undefined): Promise<{ rotated: boolean; rotatedAtMs: number }> {
    // The key-file lock is also held, briefly, by key-file writes, retirements and scheduled checks: an
    // admin's request waits a moment for it rather than being refused for one of those.
    const waitUntil = Date.now() + (admin ? adminLockWaitMs : 0);
    let outcome = await tryRotate(admin);
    while (outcome === undefined && Date.now() < waitUntil) {
      await Bun.sleep(50);
      outcome = await tryRotate(admin);
    }
    if (admin && !outcome?.rotated) throw rotationInProgress(outcome?.pending);
    const rotated = outcome?.rotated ?? false;
    if (rotated) {
      logger.info("rotated the encryption key", { reason: admin ? "admin" : "schedule" });
      // After the lock's transaction: the embedded database has one connection, so no nested transaction.
      await deps.audit.change(
        { ...(admin ?? system), event: AuditEventName.keyRotate, subject: admin ? "on demand" : "scheduled" },
        async () => ({ result: undefined }),
      );
    }
    return { rotated, rotatedAtMs: keyring.lastRotatedAt };
  }

  /** One attempt under the key-file lock; undefined when another session holds it. */
  function tryRotate(admin: Admin | undefined) {
    return withAdvisoryLock(db, [keyFileLock], async (tx) => {
      // Under the lock, the file itself rather than a stat: it changes only under this lock.
      await keyring.reload();
      // A current key from before format 2 envelopes is due at once: the rewrap that follows moves every
      // legacy envelope (version not bound) to format 2, and its keys can then be retired.
      const due = keyring.currentKeyIsLegacy || now() - keyring.lastRotatedAt >= options.rotationIntervalMs;
      if (!admin && !due) return { rotated: false, pending: 0 };
      const pending = await tx.pending(keyring.activeKeyId);
      if (pending > 0) return { rotated: false, pending };
      await keyring.rotate();
      return { rotated: true, pending: 0 };
    });
  }

  function move(row: WrappedRow): RewrapMove {
    const ref = { secretId: row.secretId, version: row.version };
    const plaintext = keyring.decrypt(row.valueEncrypted, ref);
    const envelope = keyring.encrypt(plaintext, ref);
    plaintext.fill(0);
    return { row, envelope, keyId: keyring.keyIdOf(envelope) };
  }

  /** One batch under the rewrap lock; resolves how many rows moved, or undefined if another vault holds it. */
  async function rewrapBatch(): Promise<number | undefined> {
    return withAdvisoryLock(db, [rewrapLock], async (tx) => {
      await keyring.reload();
      const active = keyring.activeKeyId;
      // A row under a key this vault does not know is under a key another vault rotated to since this
      // one looked: newer than ours, so not ours to move (moving it back would also fail to decrypt).
      const ours = (rows: WrappedRow[]) => rows.filter((row) => keyring.hasKey(row.keyId)).map(move);
      const current = ours(await tx.secretsToRewrap(active, options.batchSize));
      const kept = ours(await tx.versionsToRewrap(active, options.batchSize));
      return (await tx.rewrapSecrets(current)) + (await tx.rewrapVersions(kept));
    });
  }

  /**
   * Removes previous keys that no row uses and that have not been current for the grace period. Under the
   * key-file lock, the rotation's: a retirement from a view older than another vault's rotation would
   * otherwise write that vault's new key out of the file. And under the rewrap lock: no rewrap is moving
   * rows onto a key while its rows are counted.
   */
  async function retireUnused(): Promise<number> {
    const result = await withAdvisoryLock(db, [keyFileLock, rewrapLock], async (tx) => {
      await keyring.reload();
      const keys = keyring.keys();
      let retired = 0;
      for (let i = 1; i < keys.length; i++) {
        const key = keys[i];
        const supersededAt = keys[i - 1]?.createdAt ?? now();
        if (!key || now() - supersededAt < options.retireGraceMs) continue;
        if ((await tx.rowsUnderKey(key.id)) > 0) continue;
        await keyring.retire(key.id);
        retired += 1;
      }
      return retired;
    });
    if (result) logger.info("removed encryption keys no row uses any more", { count: result });
    return result ?? 0;
  }

  /** The schedule, then the rewrap until nothing is left (or another vault has the lock), then retirement. */
  async function runOnce(): Promise<void> {
    await rotate(undefined);
    let total = 0;
    for (;;) {
      if (stopped) return;
      const moved = await rewrapBatch();
      if (!moved) break;
      total += moved;
    }
    if (total > 0) logger.info("re-encrypted values under the current key", { rows: total });
    await retireUnused();
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => logger.warn("key rotation will retry", { error }))
        .finally(() => {
          running = undefined;
          schedule(options.checkIntervalMs);
        });
    }, delayMs);
  }

  return {
    rotate,
    rewrapBatch,
    retireUnused,
    runOnce,
    /** Rows not yet under the current key. */
    pending: () => dal.pending(keyring.activeKeyId),
    /** Starts the background loop (first pass at once). */
    start(): void {
      stopped = false;
      schedule(0);
    },
    /** Runs a pass soon (after an admin's rotation). */
    nudge(): void {
      if (running || stopped) return;
      clearTimeout(timer);
      schedule(0);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
