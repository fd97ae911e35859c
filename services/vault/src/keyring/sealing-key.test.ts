import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSealedValue, sealValue } from "@secrets/sealing";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateSealingKey, sealingKeyFileName } from "./sealing-key.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sealing-key-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("sealing key file", () => {
  it("is created once with mode 0600 and reloads to the same pair", async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateSealingKey({ dataDir });
    expect(statSync(join(dataDir, sealingKeyFileName)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateSealingKey({ dataDir });
    expect(again.keyId).toBe(first.keyId);
    expect(openSealedValue(again, sealValue(first, "v", "N"), "N")).toBe("v");
  });

  it("gives processes that start together one pair", async () => {
    const dataDir = tempDir();
    const pairs = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSealingKey({ dataDir })));
    expect(new Set(pairs.map((p) => p.keyId)).size).toBe(1);
  });

  it("refuses a group-readable or malformed file without printing it", async () => {
    const dataDir = tempDir();
    const path = join(dataDir, sealingKeyFileName);
    await loadOrCreateSealingKey({ dataDir });
    chmodSync(path, 0o640);
    await expect(loadOrCreateSealingKey({ dataDir })).rejects.toThrow(/chmod 600/);
    writeFileSync(path, '{"formatVersion":1,"privateKey":"c2VjcmV0"}', { mode: 0o600 });
    chmodSync(path, 0o600);
    const error = await loadOrCreateSealingKey({ dataDir }).catch((e: Error) => e);
    expect(String(error)).toMatch(/malformed/);
    expect(String(error)).not.toContain("c2VjcmV0");
  });
});
