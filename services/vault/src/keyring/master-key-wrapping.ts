/**
 * A key file wrapped with the master key (`VAULT_MASTER_KEY_FILE`, see `master-key.ts`). A wrapped file is
 * JSON: `{ "wrappedWith": "vault-master-key", "formatVersion": 1, "iv": "<b64>", "data": "<b64 ciphertext
 * and tag>" }`; its AAD is the file's name, so two wrapped files cannot be swapped.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from "node:crypto";
import { basename } from "node:path";
import { KeyFileError } from "./errors.ts";

const marker = "vault-master-key";
const tagLength = 16;

export function isWrapped(text: string): boolean {
  try {
    return (JSON.parse(text) as { wrappedWith?: unknown }).wrappedWith === marker;
  } catch {
    return false;
  }
}

export function wrap(text: string, masterKey: KeyObject, path: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", masterKey, iv);
  cipher.setAAD(Buffer.from(basename(path)));
  const data = Buffer.concat([cipher.update(text, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${JSON.stringify({ wrappedWith: marker, formatVersion: 1, iv: iv.toString("base64"), data: data.toString("base64") })}\n`;
}

export function unwrap(text: string, masterKey: KeyObject | undefined, path: string): string {
  if (!masterKey) {
    throw new KeyFileError(path, `${path} is encrypted with a master key; set VAULT_MASTER_KEY_FILE`);
  }
  try {
    const { iv, data } = JSON.parse(text) as { iv: string; data: string };
    const bytes = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", masterKey, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(basename(path)));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagLength));
    return Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - tagLength)),
      decipher.final(),
    ]).toString("utf8");
  } catch (cause) {
    throw new KeyFileError(path, `${path} cannot be decrypted with this master key`, { cause });
  }
}
