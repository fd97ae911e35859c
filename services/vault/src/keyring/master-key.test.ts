import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KeyFileError, loadOrCreateKeyring, loadOrCreateSealingKey } from "./index.ts";
import { loadMasterKey } from "./master-key.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "master-key-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function masterKeyIn(dir: string, name = "master.key") {
  const path = join(dir, name);
  writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  return loadMasterKey(path);
}

describe("the master key (VAULT_MASTER_KEY_FILE)", () => {
  it("stores the key files wrapped, so the data directory alone reveals no key", async () => {
    const dataDir = tempDir();
    const masterKey = await masterKeyIn(tempDir());
    const keyring = await loadOrCreateKeyring({ dataDir, masterKey });
    await loadOrCreateSealingKey({ dataDir, masterKey });
    const envelope = keyring.encrypt(new TextEncoder().encode("wrapped"), { secretId: "s1", version: 1 });
    for (const file of ["encryption-key.txt", "sealing-key.json"]) {
      const text = readFileSync(join(dataDir, file), "utf8");
      expect(JSON.parse(text).wrappedWith).toBe("vault-master-key");
      expect(text).not.toMatch(/"keys"|"privateKey"/);
    }
    const again = await loadOrCreateKeyring({ dataDir, masterKey });
    expect(new TextDecoder().decode(again.decrypt(envelope, { secretId: "s1", version: 1 }))).toBe("wrapped");
  });

  it("refuses to start without the master key, or with another one", async () => {
    const dataDir = tempDir();
    await loadOrCreateKeyring({ dataDir, masterKey: await masterKeyIn(tempDir()) });
    await expect(loadOrCreateKeyring({ dataDir })).rejects.toThrow(/set VAULT_MASTER_KEY_FILE/);
    await expect(loadOrCreateKeyring({ dataDir, masterKey: await masterKeyIn(tempDir()) })).rejects.toThrow(
      /cannot be decrypted with this master key/,
    );
  });

  it("refuses key files in clear once a master key is configured, without the migration flag", async () => {
    const dataDir = tempDir();
    await loadOrCreateKeyring({ dataDir });
    await loadOrCreateSealingKey({ dataDir });
    const masterKey = await masterKeyIn(tempDir());
    await expect(loadOrCreateKeyring({ dataDir, masterKey })).rejects.toThrow(
      /encryption-key\.txt is stored in clear although VAULT_MASTER_KEY_FILE is set; .*VAULT_MIGRATE_PLAINTEXT_KEY_FILE=true/,
    );
    await expect(loadOrCreateSealingKey({ dataDir, masterKey })).rejects.toThrow(/stored in clear/);
    // Nothing was rewritten: the files are still in clear.
    expect(readFileSync(join(dataDir, "encryption-key.txt"), "utf8")).toContain('"keys"');
  });

  it("wraps key files written in clear with the one-time migration flag, and then needs it no more", async () => {
    const dataDir = tempDir();
    const plain = await loadOrCreateKeyring({ dataDir });
    await loadOrCreateSealingKey({ dataDir });
    const envelope = plain.encrypt(new TextEncoder().encode("before"), { secretId: "s2", version: 1 });
    const masterKey = await masterKeyIn(tempDir());
    await loadOrCreateSealingKey({ dataDir, masterKey, migratePlaintext: true });
    await loadOrCreateKeyring({ dataDir, masterKey, migratePlaintext: true });
    const wrapped = await loadOrCreateKeyring({ dataDir, masterKey });
    await loadOrCreateSealingKey({ dataDir, masterKey });
    expect(JSON.parse(readFileSync(join(dataDir, "encryption-key.txt"), "utf8")).wrappedWith).toBe(
      "vault-master-key",
    );
    expect(new TextDecoder().decode(wrapped.decrypt(envelope, { secretId: "s2", version: 1 }))).toBe(
      "before",
    );
  });

  it("refuses a master key file that group or others may read, naming the chmod", async () => {
    const dir = tempDir();
    const path = join(dir, "open.key");
    writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    chmodSync(path, 0o640);
    const error = await loadMasterKey(path).catch((e: Error) => e);
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as Error).message).toMatch(
      /master key file .* group or others \(mode 640\); run `chmod 600/,
    );
    chmodSync(path, 0o600);
    await expect(loadMasterKey(path)).resolves.toBeDefined();
    await expect(loadMasterKey(join(dir, "absent.key"))).rejects.toThrow(/Cannot read the master key file/);
  });

  it("refuses a master key file that is not 32 bytes, without quoting it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "short.key"), "c2hvcnQ=", { mode: 0o600 });
    const error = await loadMasterKey(join(dir, "short.key")).catch((e: Error) => e);
    expect(String(error)).toMatch(/32 bytes/);
    expect(String(error)).not.toContain("c2hvcnQ=");
  });
});

describe("keyring reload", () => {
  it("lets a replica sharing the key file pick up a rotation", async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateKeyring({ dataDir });
    const second = await loadOrCreateKeyring({ dataDir });
    expect(await second.refresh()).toBe(false);
    await first.rotate();
    const envelope = first.encrypt(new TextEncoder().encode("new key"), { secretId: "s3", version: 1 });
    expect(() => second.decrypt(envelope, { secretId: "s3", version: 1 })).toThrow(/not in the key file/);
    expect(await second.refresh()).toBe(true);
    expect(second.activeKeyId).toBe(first.activeKeyId);
    expect(new TextDecoder().decode(second.decrypt(envelope, { secretId: "s3", version: 1 }))).toBe(
      "new key",
    );
    expect(await second.refresh()).toBe(false);
  });
});
