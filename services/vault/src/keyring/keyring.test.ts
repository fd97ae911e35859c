import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DecryptionError, KeyFileError, KeyringError, keyFileName, loadOrCreateKeyring } from "./index.ts";

const text = (value: string) => new TextEncoder().encode(value);
const plaintext = text("sk_live_do_not_print");

let dataDir: string;
let keyPath: string;
beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), "vault-keyring-")), "data");
  keyPath = join(dataDir, keyFileName);
});
afterEach(() => rm(join(dataDir, ".."), { recursive: true, force: true }));

const readJson = async () => JSON.parse(await readFile(keyPath, "utf8"));

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe("loadOrCreateKeyring", () => {
  it("creates the directory (0700) and a key file (0600) with one key on first start", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir, now: () => 1_000 });
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const file = await readJson();
    expect(file).toEqual({
      formatVersion: 1,
      keys: [{ id: keyring.activeKeyId, key: expect.any(String), createdAt: 1_000, versionBound: true }],
      lastUpdated: 1_000,
    });
    expect(Buffer.from(file.keys[0].key, "base64")).toHaveLength(32);
    expect(keyring.lastRotatedAt).toBe(1_000);
    expect(await readdir(dataDir)).toEqual([keyFileName]);
  });

  it("reloads the same keys, so values written before a restart decrypt after it", async () => {
    const first = await loadOrCreateKeyring({ dataDir });
    const envelope = first.encrypt(plaintext, { secretId: "secret-1", version: 1 });
    const second = await loadOrCreateKeyring({ dataDir });
    expect(second.activeKeyId).toBe(first.activeKeyId);
    expect(second.decrypt(envelope, { secretId: "secret-1", version: 1 })).toEqual(plaintext);
  });

  it("refuses a key file that group or others can read, and says how to fix it", async () => {
    await loadOrCreateKeyring({ dataDir });
    await chmod(keyPath, 0o640);
    const error = await rejection(loadOrCreateKeyring({ dataDir }));
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.message).toContain(keyPath);
    expect(error.message).toContain(`chmod 600 ${keyPath}`);
  });

  it("names the file and never its content when the file is malformed", async () => {
    const first = await loadOrCreateKeyring({ dataDir });
    const valid = await readJson();
    const material: string = valid.keys[0].key;
    const cases: [unknown, RegExp][] = [
      [`${material} not json`, /not valid JSON/],
      [{ ...valid, formatVersion: 2 }, /formatVersion must be 1/],
      [{ ...valid, keys: [] }, /keys must be a non-empty array/],
      [
        { ...valid, keys: [{ ...valid.keys[0], key: material.slice(4) }] },
        /keys\[0\]\.key must be the base64/,
      ],
      [{ ...valid, keys: [{ ...valid.keys[0], id: -1 }] }, /keys\[0\]\.id must be an unsigned 32-bit/],
      [{ ...valid, keys: [valid.keys[0], valid.keys[0]] }, /keys\[1\]\.id repeats/],
      [{ ...valid, lastUpdated: "yesterday" }, /lastUpdated must be a time/],
    ];
    for (const [content, problem] of cases) {
      const body = typeof content === "string" ? content : JSON.stringify(content);
      await writeFile(keyPath, body, { mode: 0o600 });
      const error = await rejection(loadOrCreateKeyring({ dataDir }));
      expect(error).toBeInstanceOf(KeyFileError);
      expect(error.message).toContain(keyPath);
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain(material.slice(4, 20));
    }
    expect(first.activeKeyId).toBe(valid.keys[0].id);
  });

  it("agrees on one key when two processes create the file at the same moment", async () => {
    const keyrings = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateKeyring({ dataDir })));
    expect(new Set(keyrings.map((keyring) => keyring.activeKeyId)).size).toBe(1);
    expect((await readJson()).keys).toHaveLength(1);
    expect(await readdir(dataDir)).toEqual([keyFileName]);
  });
});

describe("Keyring", () => {
  it("round-trips values bound to their secret id", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const envelope = keyring.encrypt(plaintext, { secretId: "secret-1", version: 1 });
    expect(keyring.keyIdOf(envelope)).toBe(keyring.activeKeyId);
    expect(keyring.decrypt(envelope, { secretId: "secret-1", version: 1 })).toEqual(plaintext);
    expect(() => keyring.decrypt(envelope, { secretId: "secret-2", version: 1 })).toThrow(DecryptionError);
    const tampered = envelope.slice();
    tampered[20] = (tampered[20] ?? 0) ^ 0xff;
    expect(() => keyring.decrypt(tampered, { secretId: "secret-1", version: 1 })).toThrow(DecryptionError);
  });

  it("rotates: new writes use the new key at once, old ciphertext stays readable, across a reload", async () => {
    let clock = 1_000;
    const keyring = await loadOrCreateKeyring({ dataDir, now: () => clock });
    const oldKeyId = keyring.activeKeyId;
    const before = keyring.encrypt(plaintext, { secretId: "secret-1", version: 1 });
    clock = 2_000;
    await keyring.rotate();
    expect(keyring.activeKeyId).not.toBe(oldKeyId);
    expect(keyring.lastRotatedAt).toBe(2_000);
    expect(keyring.keyIds()).toEqual([keyring.activeKeyId, oldKeyId]);
    const after = keyring.encrypt(plaintext, { secretId: "secret-1", version: 1 });
    expect(keyring.keyIdOf(after)).toBe(keyring.activeKeyId);
    expect(keyring.decrypt(before, { secretId: "secret-1", version: 1 })).toEqual(plaintext);

    const file = await readJson();
    expect(file.keys.map((key: { id: number }) => key.id)).toEqual([keyring.activeKeyId, oldKeyId]);
    expect(file.lastUpdated).toBe(2_000);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual([keyFileName]);

    const reloaded = await loadOrCreateKeyring({ dataDir });
    expect(reloaded.activeKeyId).toBe(keyring.activeKeyId);
    expect(reloaded.decrypt(before, { secretId: "secret-1", version: 1 })).toEqual(plaintext);
    expect(reloaded.decrypt(after, { secretId: "secret-1", version: 1 })).toEqual(plaintext);
  });

  it("keeps every key through concurrent rotations", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    await Promise.all([keyring.rotate(), keyring.rotate(), keyring.rotate()]);
    expect(keyring.keyIds()).toHaveLength(4);
    expect(new Set(keyring.keyIds()).size).toBe(4);
    expect((await readJson()).keys).toHaveLength(4);
    expect(await readdir(dataDir)).toEqual([keyFileName]);
  });

  it("retires a previous key, but never the current one", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const oldKeyId = keyring.activeKeyId;
    const before = keyring.encrypt(plaintext, { secretId: "secret-1", version: 1 });
    await keyring.rotate();
    expect(await rejection(keyring.retire(keyring.activeKeyId))).toBeInstanceOf(KeyringError);
    expect(await rejection(keyring.retire(12345))).toBeInstanceOf(KeyringError);
    await keyring.retire(oldKeyId);
    expect(keyring.hasKey(oldKeyId)).toBe(false);
    expect(keyring.hasKey(keyring.activeKeyId)).toBe(true);
    expect(() => keyring.decrypt(before, { secretId: "secret-1", version: 1 })).toThrow(
      /not in the key file/,
    );
    expect((await readJson()).keys).toHaveLength(1);
    expect((await loadOrCreateKeyring({ dataDir })).hasKey(oldKeyId)).toBe(false);
  });

  it("keeps the current key when the new one cannot be written", async () => {
    const keyring = await loadOrCreateKeyring({ dataDir });
    const current = keyring.activeKeyId;
    // A directory in the file's place makes the rename fail, whoever runs the test.
    await rm(keyPath);
    await mkdir(keyPath);
    await rejection(keyring.rotate());
    expect(keyring.activeKeyId).toBe(current);
    expect(keyring.keyIds()).toEqual([current]);
    expect(await readdir(dataDir)).toEqual([keyFileName]);
  });
});
