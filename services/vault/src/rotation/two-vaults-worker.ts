/**
 * One vault's key handling in its own process, for two-vaults.test.ts: against a database and a key
 * directory shared with another such process, it writes values while it rotates, rewraps and retires keys
 * as fast as the locks let it. Prints what it wrote (id and value) and what it did, as one JSON line.
 *
 * Usage: bun two-vaults-worker.ts <database url> <data dir> <duration ms> <name prefix>
 */
import { silentLogger } from "@secrets/logger";
import { openDatabase } from "../db/connection.ts";
import { loadOrCreateKeyring } from "../keyring/index.ts";
import { createKeyRotation } from "./key-rotation.ts";
import { seedSecrets } from "./seed-secrets.ts";

const [databaseUrl, dataDir, duration, prefix] = process.argv.slice(2);
if (!databaseUrl || !dataDir || !duration || !prefix) throw new Error("usage: <url> <dir> <ms> <prefix>");

const opened = await openDatabase({ databaseUrl, dataDir, maxConnections: 4 });
const keyring = await loadOrCreateKeyring({ dataDir });
const admin = { actor: prefix, requestId: "", ipAddress: "", userAgent: "" };
const rotation = createKeyRotation({
  db: opened.db,
  keyring,
  // No audit here; the rotation's audited work takes no transaction, so none is handed to it.
  audit: { change: async (_facts, work) => (await work(undefined as never)).result },
  logger: silentLogger,
  // A grace far longer than one write: a value encrypted under a key just before another vault's rotation
  // is committed before that key can be retired (the production grace is hours).
  options: { rotationIntervalMs: 86_400_000, checkIntervalMs: 50, batchSize: 20, retireGraceMs: 300 },
});

const written: { id: string; value: string }[] = [];
const done = { rotations: 0, retired: 0, moved: 0, refusedRotations: 0 };
const deadline = Date.now() + Number(duration);
for (let round = 0; Date.now() < deadline; round++) {
  // As the write path does: pick up another vault's rotation before encrypting.
  await keyring.refresh();
  written.push(
    ...(await seedSecrets(opened.db, keyring, {
      count: 5,
      prefix: `${prefix}_${round}`,
      valueOf: (i) => `${prefix}-${round}-${i}`,
    })),
  );
  try {
    if ((await rotation.rotate(admin)).rotated) done.rotations += 1;
  } catch {
    // ROTATION_IN_PROGRESS: the other vault holds the lock, or the last rewrap is not done.
    done.refusedRotations += 1;
  }
  done.moved += (await rotation.rewrapBatch()) ?? 0;
  done.retired += await rotation.retireUnused();
}
await opened.close();
process.stdout.write(`${JSON.stringify({ written, done })}\n`);
