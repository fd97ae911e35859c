/**
 * The key file, `$SECRETS_DATA_DIR/encryption-key.txt`:
 *
 *   { "formatVersion": 1,
 *     "keys": [ { "id": <uint32>, "key": "<base64 of 32 bytes>", "createdAt": <ms>,
 *                 "versionBound": true }, ... ],
 *     "lastUpdated": <ms> }
 *
 * `keys[0]` is the current key; the others are previous keys, kept so old ciphertext stays readable.
 * `versionBound` marks keys created since envelopes bind the value's version (format 2): they refuse a
 * legacy (format 1) envelope. A key without it predates format 2 and still opens format 1 until it is
 * retired. Files written before the field existed are read unchanged, every key legacy.
 * The file is only ever replaced whole (temp file, fsync, rename, fsync of the directory), with mode 0600.
 */
import { createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { KeyFileError } from "./errors.ts";
import { type AtRest, readPrivate, writePrivate } from "./private-file.ts";

export const keyFileName = "encryption-key.txt";
export const keyFileFormatVersion = 1;
const keyLength = 32;
const base64Of32Bytes = /^[A-Za-z0-9+/]{43}=$/;

/** One key; the material stays inside a KeyObject, which prints and serialises as nothing. */
export interface StoredKey {
  id: number;
  key: KeyObject;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Created before format 2 envelopes: legacy (format 1) envelopes under it are still opened. */
  acceptsLegacy: boolean;
}

export interface KeyFileContents {
  /** Current key first. */
  keys: StoredKey[];
  lastUpdated: number;
}

/** A new random key whose id is not among `existing`. */
export function generateKey(existing: readonly StoredKey[], createdAt: number): StoredKey {
  const taken = new Set(existing.map((key) => key.id));
  let id: number;
  do id = randomBytes(4).readUInt32BE(0);
  while (taken.has(id));
  return { id, key: createSecretKey(randomBytes(keyLength)), createdAt, acceptsLegacy: false };
}

export function serializeKeyFile(contents: KeyFileContents): string {
  const keys = contents.keys.map(({ id, key, createdAt, acceptsLegacy }) => ({
    id,
    key: key.export().toString("base64"),
    createdAt,
    ...(acceptsLegacy ? {} : { versionBound: true }),
  }));
  return `${JSON.stringify({ formatVersion: keyFileFormatVersion, keys, lastUpdated: contents.lastUpdated }, null, 2)}\n`;
}

/** Validates the file's text; problems are described by position, never by quoting the content. */
export function parseKeyFile(text: string, path: string): KeyFileContents {
  const malformed = (problem: string) => new KeyFileError(path, `Key file ${path} is malformed: ${problem}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message can quote the text around the error, which may be key material.
    throw malformed("it is not valid JSON");
  }
  if (typeof data !== "object" || data === null) throw malformed("expected a JSON object");
  const { formatVersion, keys, lastUpdated } = data as Record<string, unknown>;
  if (formatVersion !== keyFileFormatVersion) {
    throw malformed(`formatVersion must be ${keyFileFormatVersion}`);
  }
  if (!isTime(lastUpdated)) throw malformed("lastUpdated must be a time in milliseconds");
  if (!Array.isArray(keys) || keys.length === 0) throw malformed("keys must be a non-empty array");
  const parsed: StoredKey[] = [];
  for (const [index, entry] of keys.entries()) {
    const { id, key, createdAt, versionBound } = (
      typeof entry === "object" && entry !== null ? entry : {}
    ) as Record<string, unknown>;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw malformed(`keys[${index}].id must be an unsigned 32-bit integer`);
    }
    if (parsed.some((other) => other.id === id)) throw malformed(`keys[${index}].id repeats an earlier id`);
    if (typeof key !== "string" || !base64Of32Bytes.test(key)) {
      throw malformed(`keys[${index}].key must be the base64 of ${keyLength} bytes`);
    }
    if (!isTime(createdAt)) throw malformed(`keys[${index}].createdAt must be a time in milliseconds`);
    if (versionBound !== undefined && versionBound !== true) {
      throw malformed(`keys[${index}].versionBound must be true when present`);
    }
    parsed.push({
      id,
      key: createSecretKey(Buffer.from(key, "base64")),
      createdAt,
      acceptsLegacy: versionBound !== true,
    });
  }
  return { keys: parsed, lastUpdated };
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Reads and validates the key file; undefined if it does not exist. Refuses a file that group or others
 * may access: whoever can read it can decrypt every secret.
 */
export async function readKeyFile(
  path: string,
  atRest: AtRest = {},
): Promise<(KeyFileContents & { storedPlain: boolean }) | undefined> {
  const stored = await readPrivate(path, "key file", atRest);
  return stored === undefined ? undefined : { ...parseKeyFile(stored.text, path), storedPlain: stored.plain };
}

/**
 * Writes the key file atomically with mode 0600. With `replace: false` the file is only created if absent
 * and the result says whether it was.
 */
export function writeKeyFile(
  path: string,
  contents: KeyFileContents,
  options: { replace: boolean } & AtRest,
): Promise<boolean> {
  return writePrivate(path, serializeKeyFile(contents), options);
}
