/**
 * The audit service's Ed25519 signing key: `audit-signing.key` (PKCS#8 PEM, mode 0600) under its data
 * directory, created on first start, and the public key beside it as `audit-signing.pub` (SPKI PEM), which
 * is what `secrets audit verify --public-key` takes. Only this service reads the private key.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parsePrivateKey } from "@secrets/audit-chain";

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

export async function loadOrCreateSigningKey(dataDir: string): Promise<AuditSigningKey> {
  const privateKeyPath = join(dataDir, "audit-signing.key");
  const publicKeyPath = join(dataDir, "audit-signing.pub");
  let pem: string;
  try {
    pem = await readFile(privateKeyPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    // "wx": two processes starting at once on a shared volume must not overwrite each other's key.
    await writeFile(privateKeyPath, pem, { mode: 0o600, flag: "wx" }).catch(async (writeError: unknown) => {
      if ((writeError as NodeJS.ErrnoException).code !== "EEXIST") throw writeError;
      pem = await readFile(privateKeyPath, "utf8");
    });
  }
  const privateKey = parsePrivateKey(pem);
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  // Rewritten at every start, so it always matches the private key.
  await writeFile(publicKeyPath, publicKeyPem, { mode: 0o644 });
  return { privateKey, publicKeyPem, privateKeyPath, publicKeyPath };
}
