/**
 * The optional key-encryption key (`VAULT_MASTER_KEY_FILE`): with it, the key files in the data
 * directory are themselves AES-256-GCM encrypted, so a copy of the data volume alone reveals no key.
 * Keep the master key elsewhere (a secret mount, an HSM export, an operator's safe).
 *
 * A wrapped file is JSON: `{ "wrappedWith": "vault-master-key", "formatVersion": 1, "iv": "<b64>",
 * "data": "<b64 ciphertext and tag>" }`; its AAD is the file's name, so two wrapped files cannot be
 * swapped.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { basename } from "node:path";
import { KeyFileError } from "./errors.ts";
import { readPrivateFile } from "./private-file.ts";

const marker = "vault-master-key";
const tagLength = 16;

/**
 * Reads the master key: 32 bytes as base64 (or hex) text. Refuses anything else without quoting it, and,
 * like the key file, a file that group or others may access.
 */
export async function loadMasterKey(path: string): Promise<KeyObject> {
  let read: string | undefined;
  try {
    read = await readPrivateFile(path, "master key file");
  } catch (error) {
    if (error instanceof KeyFileError && /group or others/.test(error.message)) throw error;
    throw new KeyFileError(path, `Cannot read the master key file ${path}`, { cause: error });
  }
  if (read === undefined)
    throw new KeyFileError(path, `Cannot read the master key file ${path}: it does not exist`);
  const text = read.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (bytes.length !== 32) {
    throw new KeyFileError(path, `The master key file ${path} must hold 32 bytes as base64 or hex`);
  }
  return createSecretKey(bytes);
}

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
