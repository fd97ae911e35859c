/**
 * Files that hold key material: readable by their owner only, and replaced whole, atomically.
 */
import { type KeyObject, randomBytes } from "node:crypto";
import { link, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KeyFileError } from "./errors.ts";
import { isWrapped, unwrap, wrap } from "./master-key-wrapping.ts";

/** How a private file is protected at rest beyond its mode. */
export interface AtRest {
  /** The master key (VAULT_MASTER_KEY_FILE); unset: the file holds its content in clear. */
  masterKey?: KeyObject | undefined;
  /** VAULT_MIGRATE_PLAINTEXT_KEY_FILE: with a master key, accept a file stored in clear, once, so the
   *  caller wraps it. Without it such a file is refused. */
  migratePlaintext?: boolean | undefined;
}

/**
 * Reads a private file, unwrapping it with the master key when it is wrapped. With a master key, a file in
 * clear is refused: someone who can write the data directory could otherwise plant keys of their own
 * choosing (every later value encrypted under a key they know). Only with `migratePlaintext` (adding a
 * master key to an existing installation) is it read, and `plain` tells the caller to rewrite it wrapped.
 */
export async function readPrivate(
  path: string,
  what: string,
  atRest: AtRest = {},
): Promise<{ text: string; plain: boolean } | undefined> {
  const stored = await readPrivateFile(path, what);
  if (stored === undefined) return undefined;
  if (isWrapped(stored)) return { text: unwrap(stored, atRest.masterKey, path), plain: false };
  if (atRest.masterKey !== undefined && !atRest.migratePlaintext) {
    throw new KeyFileError(
      path,
      `The ${what} ${path} is stored in clear although VAULT_MASTER_KEY_FILE is set; if this installation is ` +
        "only now getting a master key, start one vault once with VAULT_MIGRATE_PLAINTEXT_KEY_FILE=true to wrap it",
    );
  }
  return { text: stored, plain: atRest.masterKey !== undefined };
}

/** Writes a private file atomically, wrapped with the master key when one is configured. */
export function writePrivate(
  path: string,
  text: string,
  options: { replace: boolean } & AtRest,
): Promise<boolean> {
  return writePrivateFile(path, options.masterKey ? wrap(text, options.masterKey, path) : text, options);
}

/**
 * Reads a private file; undefined if it does not exist. Refuses a file that group or others may access,
 * naming the file and the `chmod` that fixes it (never its content).
 */
export async function readPrivateFile(path: string, what: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new KeyFileError(path, `Cannot open ${what} ${path}`, { cause: error });
  }
  try {
    // Mode and content from the same open file, so the check applies to what is read.
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(3, "0");
      throw new KeyFileError(
        path,
        `The ${what} ${path} is accessible by group or others (mode ${octal}); run \`chmod 600 ${path}\``,
      );
    }
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Writes a private file atomically: a temp file beside it (mode 0600), fsync, then into place, then fsync
 * of the directory so the rename itself survives a crash. With `replace: false` the file is only created
 * if absent (hard link instead of rename), so processes starting together agree on one file; the result
 * says whether this call placed it.
 */
export async function writePrivateFile(
  path: string,
  text: string,
  options: { replace: boolean },
): Promise<boolean> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  let placed: boolean;
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace) await rename(temp, path);
    placed = options.replace || (await linkIfAbsent(temp, path));
  } finally {
    // After a rename there is nothing left to remove; after a link, or a failure, the temp file goes.
    await rm(temp, { force: true });
  }
  await syncDirectory(directory);
  return placed;
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems cannot fsync a directory; the rename is still atomic there.
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
  } finally {
    await handle.close();
  }
}
