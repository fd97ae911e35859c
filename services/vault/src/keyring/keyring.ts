import type { KeyObject } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { open, readFormat, readKeyId, seal, type ValueRef } from "./envelope.ts";
import { KeyFileError, KeyringError } from "./errors.ts";
import {
  generateKey,
  type KeyFileContents,
  keyFileName,
  readKeyFile,
  type StoredKey,
  writeKeyFile,
} from "./key-file.ts";

/**
 * Every use of key material goes through this interface; nothing else in the vault sees a key.
 *
 * Rotation contract:
 * - `rotate()` adds a new current key. Once it resolves, every `encrypt` uses the new key; nothing
 *   encrypted before is touched.
 * - Ciphertext stays decryptable for as long as the key it names is in the key file. A previous key
 *   leaves the file only through `retire()`, which the rewrap job calls once no row uses that key.
 * - The key file is written before the keyring changes in memory, so no value is ever encrypted under a
 *   key that a restart would lose.
 * - One process at a time changes the key file: the caller of `rotate()` and `retire()` holds the key-file
 *   lock (the PostgreSQL advisory lock in rotation/key-rotation.ts, shared by every vault on the
 *   database). Under it, both re-read the file and change what is on disk, never the keyring's possibly
 *   stale copy: a replica that missed another's rotation must not write the new key out of the file.
 *   Replicas sharing the file pick a change up with `refresh()` (cheap: a stat) before they encrypt, and
 *   with `reload()` when they meet an envelope under a key they do not know yet.
 */
export interface Keyring {
  /** Id of the current key, which `encrypt` uses. */
  readonly activeKeyId: number;
  /** When the current key was created (ms since the epoch): the rotation schedule counts from here. */
  readonly lastRotatedAt: number;
  /** Encrypts the value `ref` (secret id and version) under the current key; returns the envelope. */
  encrypt(plaintext: Uint8Array, ref: ValueRef): Uint8Array;
  /** Decrypts the envelope of the value `ref`; throws DecryptionError if it cannot, or if the envelope
   *  belongs to another secret or another version. */
  decrypt(envelope: Uint8Array, ref: ValueRef): Uint8Array;
  /** The key id an envelope names (for rewrapping); throws DecryptionError on a malformed header. */
  keyIdOf(envelope: Uint8Array): number;
  /** The envelope's format version (1 legacy, 2 current); throws DecryptionError on a malformed header. */
  formatOf(envelope: Uint8Array): number;
  /** Whether the current key predates format 2 envelopes: a rotation is due, so that the rewrap moves
   *  every legacy envelope to format 2 and the legacy keys can be retired. */
  readonly currentKeyIsLegacy: boolean;
  /** Whether the key file holds the key with this id. */
  hasKey(keyId: number): boolean;
  /** Ids of all keys, current first. */
  keyIds(): number[];
  /** Every key's id and creation time, current first (a key stopped being current when the one before it
   *  in this list was created). */
  keys(): { id: number; createdAt: number }[];
  /** Makes a new key current, keeping every previous key; persisted before it takes effect. */
  rotate(): Promise<void>;
  /** Removes a previous key from the key file; refuses the current key and unknown ids. */
  retire(keyId: number): Promise<void>;
  /** Reads the key file again (another process rotated or retired); resolves whether anything changed. */
  reload(): Promise<boolean>;
  /** Reloads only when the file changed on disk since it was last read (a stat); resolves whether it did. */
  refresh(): Promise<boolean>;
}

export interface KeyringOptions {
  /** The process's data directory (`SECRETS_DATA_DIR`); created with mode 0700 if missing. */
  dataDir: string;
  /** The key-encryption key (VAULT_MASTER_KEY_FILE): the key file is stored wrapped with it. */
  masterKey?: KeyObject | undefined;
  /** VAULT_MIGRATE_PLAINTEXT_KEY_FILE: wrap a key file found in clear instead of refusing it. */
  migratePlaintext?: boolean | undefined;
  /** Clock in ms since the epoch; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Loads `<dataDir>/encryption-key.txt`, or creates it with a first key on first start. With a master key,
 * a file stored in clear is refused, or with `migratePlaintext` rewritten wrapped.
 *
 * @example
 * const keyring = await loadOrCreateKeyring({ dataDir: config.dataDir });
 * const envelope = keyring.encrypt(new TextEncoder().encode("s3cret"), { secretId: secret.id, version: 1 });
 */
export async function loadOrCreateKeyring(options: KeyringOptions): Promise<Keyring> {
  const now = options.now ?? Date.now;
  const path = join(options.dataDir, keyFileName);
  const atRest = { masterKey: options.masterKey, migratePlaintext: options.migratePlaintext };
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const stored = await readKeyFile(path, atRest);
  // A master key configured after the file was written, with the migration flag: wrap it now. This write
  // is outside the key-file lock, which is why the flag is for one vault's one start.
  if (stored?.storedPlain) await writeKeyFile(path, stored, { replace: true, ...atRest });
  let contents: KeyFileContents | undefined = stored;
  if (!contents) {
    const created = { keys: [generateKey([], now())], lastUpdated: now() };
    // Exclusive creation: if another process created the file meanwhile, its keys win.
    contents = (await writeKeyFile(path, created, { replace: false, ...atRest }))
      ? created
      : await readKeyFile(path, atRest);
    if (!contents) throw new KeyFileError(path, `Key file ${path} disappeared while it was being created`);
  }
  return createKeyring(path, contents, now, atRest);
}

/** What identifies a version of the file on disk without reading it. */
async function fingerprint(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.mtimeNs}:${info.size}:${info.ino}`;
}

function createKeyring(
  path: string,
  initial: KeyFileContents,
  now: () => number,
  atRest: { masterKey?: KeyObject | undefined },
): Keyring {
  let state = indexed(initial);
  let seen = "";
  void fingerprint(path)
    .then((print) => {
      seen ||= print;
    })
    // A file gone by now is reported by the next reload; until then the keyring works from memory.
    .catch(() => {});
  // rotate(), retire() and reload() each read the state, write or read the file, then swap: one at a time.
  let pending: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(change: () => Promise<T>): Promise<T> => {
    const run = pending.then(change);
    pending = run.catch(() => {});
    return run;
  };
  /** Reads the file as it is now, applies `change` to its keys and writes the result. */
  const update = async (change: (keys: StoredKey[]) => StoredKey[]) => {
    const onDisk = await readKeyFile(path, atRest);
    if (!onDisk) throw new KeyFileError(path, `Key file ${path} is gone`);
    // What is on disk is the truth from here on, even if `change` refuses.
    state = indexed(onDisk);
    const next = { keys: change(onDisk.keys), lastUpdated: Math.max(now(), onDisk.lastUpdated + 1) };
    await writeKeyFile(path, next, { replace: true, ...atRest });
    state = indexed(next);
    seen = await fingerprint(path);
  };
  const reload = () =>
    exclusive(async () => {
      const print = await fingerprint(path);
      const contents = await readKeyFile(path, atRest);
      if (!contents) throw new KeyFileError(path, `Key file ${path} is gone`);
      seen = print;
      const changed =
        contents.lastUpdated !== state.contents.lastUpdated ||
        contents.keys.length !== state.contents.keys.length;
      if (changed) state = indexed(contents);
      return changed;
    });

  return {
    get activeKeyId() {
      return state.current.id;
    },
    get lastRotatedAt() {
      return state.current.createdAt;
    },
    get currentKeyIsLegacy() {
      return state.current.acceptsLegacy;
    },
    encrypt: (plaintext, ref) => seal(state.current.key, state.current.id, plaintext, ref),
    decrypt: (envelope, ref) => open((keyId) => state.byId.get(keyId), envelope, ref),
    keyIdOf: (envelope) => readKeyId(envelope),
    formatOf: (envelope) => readFormat(envelope),
    hasKey: (keyId) => state.byId.has(keyId),
    keyIds: () => state.contents.keys.map((key) => key.id),
    keys: () => state.contents.keys.map((key) => ({ id: key.id, createdAt: key.createdAt })),
    rotate: () => exclusive(() => update((keys) => [generateKey(keys, now()), ...keys])),
    retire: (keyId) =>
      exclusive(() =>
        update((keys) => {
          if (keyId === keys[0]?.id) {
            throw new KeyringError(`Key ${keyId} is the current key and cannot be retired; rotate first`);
          }
          if (!keys.some((key) => key.id === keyId)) {
            throw new KeyringError(`Key ${keyId} is not in the key file`);
          }
          return keys.filter((key) => key.id !== keyId);
        }),
      ),
    reload,
    async refresh() {
      return (await fingerprint(path)) === seen ? false : reload();
    },
  };
}

function indexed(contents: KeyFileContents) {
  const [current] = contents.keys;
  // parseKeyFile and every writer guarantee at least one key.
  if (!current) throw new KeyringError("The key file holds no key");
  return { contents, current, byId: new Map(contents.keys.map((key) => [key.id, key])) };
}
