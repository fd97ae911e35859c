/**
 * Upgrading from format 1 envelopes (secret id bound, version not): keys from before the upgrade still open
 * them, keys created since refuse them, and once the old keys are retired no format 1 envelope opens.
 */
import { createSecretKey, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { seal } from "./envelope.ts";
import { DecryptionError, keyFileName, loadOrCreateKeyring } from "./index.ts";

const plaintext = new TextEncoder().encode("from before the upgrade");
const legacyId = 41;
const material = randomBytes(32);
const legacyKey = createSecretKey(material);
const ref = { secretId: "s-1", version: 3 };

let dataDir: string;
beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), "vault-legacy-")), "data");
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A key file as the previous release wrote it: no versionBound.
  const file = {
    formatVersion: 1,
    keys: [{ id: legacyId, key: material.toString("base64"), createdAt: 1 }],
    lastUpdated: 1,
  };
  await writeFile(join(dataDir, keyFileName), JSON.stringify(file), { mode: 0o600 });
});
afterEach(() => rm(join(dataDir, ".."), { recursive: true, force: true }));

it("opens legacy envelopes only under the keys from before the upgrade, until they are retired", async () => {
  const keyring = await loadOrCreateKeyring({ dataDir });
  expect(keyring.currentKeyIsLegacy).toBe(true);
  const legacy = seal(legacyKey, legacyId, plaintext, ref, 1);
  expect(keyring.formatOf(legacy)).toBe(1);
  expect(keyring.decrypt(legacy, ref)).toEqual(plaintext);
  // New writes are format 2 even under the old key.
  expect(keyring.formatOf(keyring.encrypt(plaintext, ref))).toBe(2);

  await keyring.rotate();
  expect(keyring.currentKeyIsLegacy).toBe(false);
  const stored = JSON.parse(await readFile(join(dataDir, keyFileName), "utf8"));
  expect(stored.keys.map((key: { versionBound?: boolean }) => key.versionBound)).toEqual([true, undefined]);
  expect(keyring.decrypt(legacy, ref)).toEqual(plaintext);

  // A format 1 envelope under a key created since the upgrade was not written by a vault: refused.
  const restarted = await loadOrCreateKeyring({ dataDir });
  const forged = legacy.slice();
  new DataView(forged.buffer).setUint32(1, restarted.activeKeyId, false);
  expect(() => restarted.decrypt(forged, ref)).toThrow(/legacy format 1, which key \d+ does not accept/);

  await restarted.retire(legacyId);
  expect(() => restarted.decrypt(legacy, ref)).toThrow(DecryptionError);
});
