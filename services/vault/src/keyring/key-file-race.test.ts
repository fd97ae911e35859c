/**
 * Two vault replicas share one key directory. Replica A rotates and encrypts under its new key while
 * replica B, whose view of the file is older, retires a previous key: B must change the file as it is on
 * disk, not its stale copy, or A's new key (and every value under it) is gone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { loadOrCreateKeyring } from "./index.ts";

const ref = { secretId: "s-1", version: 1 };
let dataDir: string;
beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), "vault-key-race-")), "data");
});
afterEach(() => rm(join(dataDir, ".."), { recursive: true, force: true }));

it("a retirement from a stale view keeps the key another replica rotated to", async () => {
  const a = await loadOrCreateKeyring({ dataDir });
  const oldest = a.activeKeyId;
  await a.rotate();
  const b = await loadOrCreateKeyring({ dataDir });
  expect(b.keyIds()).toEqual(a.keyIds());

  // A rotates and encrypts under the new key; B has not looked at the file since.
  await a.rotate();
  const envelope = a.encrypt(new TextEncoder().encode("written under the newest key"), ref);
  await b.retire(oldest);

  const restarted = await loadOrCreateKeyring({ dataDir });
  expect(restarted.keyIds()).toEqual([a.activeKeyId, b.keyIds().at(-1)]);
  expect(restarted.hasKey(oldest)).toBe(false);
  expect(new TextDecoder().decode(restarted.decrypt(envelope, ref))).toBe("written under the newest key");
  // B now knows the newest key too, and A picks the retirement up.
  expect(b.activeKeyId).toBe(a.activeKeyId);
  await a.refresh();
  expect(a.hasKey(oldest)).toBe(false);
});

it("a rotation from a stale view keeps a key another replica retired out and the newest key in", async () => {
  const a = await loadOrCreateKeyring({ dataDir });
  const oldest = a.activeKeyId;
  await a.rotate();
  const b = await loadOrCreateKeyring({ dataDir });
  await a.retire(oldest);
  // B's view still holds `oldest`; its rotation must not bring it back, nor lose A's current key.
  await b.rotate();
  const restarted = await loadOrCreateKeyring({ dataDir });
  expect(restarted.keyIds()).toEqual([b.activeKeyId, a.activeKeyId]);
});

it("refuses to retire a key that another replica made current meanwhile", async () => {
  const a = await loadOrCreateKeyring({ dataDir });
  const b = await loadOrCreateKeyring({ dataDir });
  await a.rotate();
  const newest = a.activeKeyId;
  // B never saw `newest`; retiring it must not remove the current key.
  await expect(b.retire(newest)).rejects.toThrow(/current key/);
  const restarted = await loadOrCreateKeyring({ dataDir });
  expect(restarted.activeKeyId).toBe(newest);
});
