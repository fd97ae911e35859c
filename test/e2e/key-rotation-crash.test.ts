/**
 * Crash safety of key rotation: the vault process is killed (SIGKILL) at random moments while it rotates
 * and rewraps, several times over. After every kill, every value is under a key still in the key file and
 * decrypts to what was stored; once the vault runs undisturbed, the rewrap finishes and every row is on
 * the current key.
 */
import { adminOperations, BusError, Reason, request } from "@secrets/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../services/vault/src/db/connection.ts";
import { secrets, secretVersions } from "../../services/vault/src/db/schema.ts";
import { loadOrCreateKeyring } from "../../services/vault/src/keyring/index.ts";
import { seedSecrets } from "../../services/vault/src/rotation/seed-secrets.ts";
import { testAdminContext } from "../support/admin-bus-client.ts";
import type { ServiceProcess } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";

const admin = testAdminContext();
const vaultEnv = { REWRAP_BATCH_SIZE: "25", KEY_CHECK_INTERVAL_MS: "100", KEY_RETIRE_GRACE_MS: "0" };
let stack: Stack;
let vault: ServiceProcess;
let seeded: { id: string; value: string }[];

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault(vaultEnv);
  const opened = await openDatabase({
    databaseUrl: stack.databaseUrl,
    dataDir: stack.vaultDataDir,
    maxConnections: 4,
  });
  try {
    const keyring = await loadOrCreateKeyring({ dataDir: stack.vaultDataDir });
    seeded = await seedSecrets(opened.db, keyring, {
      count: 2_000,
      prefix: "CRASH",
      valueOf: (i) => `crash-${i}`,
    });
  } finally {
    await opened.close();
  }
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

/** Every current value and kept version is under a key in the file, and decrypts to what was seeded. */
async function checkEveryValue(): Promise<{ keys: number; onCurrent: number }> {
  const keyring = await loadOrCreateKeyring({ dataDir: stack.vaultDataDir });
  const opened = await openDatabase({
    databaseUrl: stack.databaseUrl,
    dataDir: stack.vaultDataDir,
    maxConnections: 2,
  });
  try {
    const expected = new Map(seeded.map((s) => [s.id, s.value]));
    const decoder = new TextDecoder();
    const current = await opened.db.select().from(secrets);
    const kept = await opened.db.select().from(secretVersions);
    for (const row of [
      ...current.map((r) => ({ id: r.id, version: r.version, envelope: r.valueEncrypted })),
      ...kept.map((r) => ({ id: r.secretId, version: r.version, envelope: r.valueEncrypted })),
    ]) {
      expect(
        decoder.decode(
          keyring.decrypt(row.envelope ?? new Uint8Array(), { secretId: row.id, version: row.version }),
        ),
      ).toBe(expected.get(row.id));
    }
    expect(current).toHaveLength(seeded.length);
    return {
      keys: keyring.keyIds().length,
      onCurrent: current.filter((r) => r.keyId === keyring.activeKeyId).length,
    };
  } finally {
    await opened.close();
  }
}

async function rewrapDone(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const status = await request(stack.bus, adminOperations.keyStatus, { admin }, { timeoutMs: 10_000 });
    if (status.pendingRewrap === 0) return;
    await Bun.sleep(100);
  }
  throw new Error("the rewrap did not finish within 60 s");
}

/**
 * Rotates as soon as no vault holds the rotation lock: after a kill, PostgreSQL frees the killed vault's
 * lock once it notices the connection gone, and the restarted vault holds it while it finishes the
 * rewrap it resumed; meanwhile the vault answers ROTATION_IN_PROGRESS, which says to try again.
 */
async function rotateWhenFree(): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await request(stack.bus, adminOperations.rotateKey, { admin }, { timeoutMs: 10_000 });
      return;
    } catch (error) {
      const busy = error instanceof BusError && error.reason === Reason.ROTATION_IN_PROGRESS;
      if (!busy || i >= 100) throw error;
      await Bun.sleep(100);
    }
  }
}

describe("key rotation survives kill -9", () => {
  it("keeps every value decryptable through repeated kills mid-rewrap, then finishes", {
    timeout: 240_000,
  }, async () => {
    const partial: number[] = [];
    for (let iteration = 0; iteration < 5; iteration++) {
      // One rotation at a time: the vault refuses a new one while the restarted vault is still finishing
      // the last one's rewrap, so wait for it, then rotate (and kill) again.
      await rewrapDone();
      await rotateWhenFree();
      await Bun.sleep(20 + Math.floor(Math.random() * 400));
      await vault.kill();
      const { onCurrent } = await checkEveryValue();
      partial.push(onCurrent);
      vault = await stack.startVault(vaultEnv);
    }
    // At least one kill must have landed in the middle of a rewrap, or the test proved nothing.
    expect(partial.some((count) => count > 0 && count < seeded.length)).toBe(true);

    for (let i = 0; i < 600; i++) {
      const status = await request(stack.bus, adminOperations.keyStatus, { admin }, { timeoutMs: 10_000 });
      if (status.pendingRewrap === 0 && status.keyCount === 1) break;
      await Bun.sleep(100);
    }
    const finished = await checkEveryValue();
    expect(finished).toEqual({ keys: 1, onCurrent: seeded.length });
    console.log(`kills landed with ${partial.join(", ")} of ${seeded.length} values on the newest key`);
  });
});
