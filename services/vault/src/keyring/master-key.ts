/**
 * The optional key-encryption key (`VAULT_MASTER_KEY_FILE`): with it, the key files in the data
 * directory are themselves AES-256-GCM encrypted, so a copy of the data volume alone reveals no key.
 * Keep the master key elsewhere (a secret mount, an HSM export, an operator's safe).
 *
 * How a file is wrapped with it is in `master-key-wrapping.ts`.
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import { KeyFileError } from "./errors.ts";
import { readPrivateFile } from "./private-file.ts";

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
