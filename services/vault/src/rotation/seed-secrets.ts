/**
 * Writes many secrets straight into the database, encrypted under the keyring's current key, with one
 * kept version each: for tests and benchmarks of the rewrap and of large lists.
 */
import type { Database } from "../db/connection.ts";
import { secrets, secretVersions } from "../db/schema.ts";
import type { Keyring } from "../keyring/index.ts";

export async function seedSecrets(
  db: Database,
  keyring: Pick<Keyring, "encrypt" | "keyIdOf">,
  options: { count: number; prefix: string; valueOf: (index: number) => string; chunk?: number },
): Promise<{ id: string; name: string; value: string }[]> {
  const encoder = new TextEncoder();
  const seeded: { id: string; name: string; value: string }[] = [];
  const chunk = options.chunk ?? 1_000;
  for (let start = 0; start < options.count; start += chunk) {
    const rows = [];
    const versions = [];
    for (let i = start; i < Math.min(options.count, start + chunk); i++) {
      const id = Bun.randomUUIDv7();
      const name = `${options.prefix}_${String(i).padStart(6, "0")}`;
      const value = options.valueOf(i);
      const valueEncrypted = keyring.encrypt(encoder.encode(value), { secretId: id, version: 1 });
      const keyId = keyring.keyIdOf(valueEncrypted);
      rows.push({ id, name, createdBy: "seed", valueEncrypted, keyId, version: 1 });
      versions.push({ secretId: id, version: 1, valueEncrypted, keyId, createdBy: "seed" });
      seeded.push({ id, name, value });
    }
    await db.insert(secrets).values(rows);
    await db.insert(secretVersions).values(versions);
  }
  return seeded;
}
