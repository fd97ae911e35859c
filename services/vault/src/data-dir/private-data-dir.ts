/**
 * The vault's data directory (key files, PGlite's database, the embedded audit journal) is its owner's
 * alone. PGlite writes WAL and catalog files with whatever mode the process's umask allows, and a data
 * directory created earlier (the image's, an operator's `mkdir`) may be 0755: both would let any local
 * user read secret names, descriptions and token hashes from the WAL, or write `pg_control`.
 */
import { chmod, lstat, mkdir, readdir, stat as statFollowing } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@secrets/logger";

/** What tightening changed: each path with the mode it had. Empty when everything was already private. */
export interface Tightened {
  path: string;
  /** The mode it had, as octal text (`0755`). */
  was: string;
}

export class DataDirError extends Error {
  override name = "DataDirError";
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`;

/**
 * Creates the data directory 0700, or tightens an existing one; refuses one that belongs to another user
 * (its owner could read or swap the files whatever their mode). Call before anything writes there.
 *
 * @example
 * for (const t of await preparePrivateDataDir(config.dataDir)) logger.warn("tightened", t);
 */
export async function preparePrivateDataDir(dir: string): Promise<Tightened[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The directory itself may be a symlink an operator placed (a volume elsewhere): what it points to counts.
  if (!(await statFollowing(dir)).isDirectory()) {
    throw new DataDirError(`The data directory ${dir} is not a directory`);
  }
  return tightenPrivateTree(dir, { followRoot: true });
}

/**
 * Removes group and other bits from the directory and everything under it (symlinks are not followed),
 * so files written before the umask was set, or by a library choosing its own modes, become private too.
 */
export async function tightenPrivateTree(
  dir: string,
  options: { followRoot?: boolean } = {},
): Promise<Tightened[]> {
  const uid = process.getuid?.();
  const tightened: Tightened[] = [];
  const visit = async (path: string, follow: boolean): Promise<void> => {
    const stat = follow ? await statFollowing(path) : await lstat(path);
    if (stat.isSymbolicLink()) return;
    if (uid !== undefined && uid !== 0 && stat.uid !== uid) {
      throw new DataDirError(
        `${path} in the data directory belongs to uid ${stat.uid}, not to this process (uid ${uid}): ` +
          `run \`chown -R ${uid} ${dir}\``,
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      await chmod(path, stat.mode & 0o700);
      tightened.push({ path, was: octal(stat.mode) });
    }
    if (stat.isDirectory()) {
      for (const entry of await readdir(path)) await visit(join(path, entry), false);
    }
  };
  await visit(dir, options.followRoot ?? false);
  return tightened;
}

/**
 * One log line's worth: how many entries were tightened and the first few, so a data directory of a
 * thousand PGlite files does not flood the log.
 */
export function describeTightened(tightened: Tightened[]): { count: number; examples: Tightened[] } {
  return { count: tightened.length, examples: tightened.slice(0, 5) };
}

/**
 * Prepares the data directory before anything is written there, logging what had to be tightened.
 * Returns a check to run once the database is open: PGlite creates its files itself, and anything it
 * left open to others is tightened (and logged) then.
 */
export async function securePrivateDataDir(
  dir: string,
  logger: Pick<Logger, "warn">,
): Promise<{ afterOpen(): Promise<void> }> {
  const before = await preparePrivateDataDir(dir);
  if (before.length > 0) {
    logger.warn(
      "the data directory was open to other users; removed group and other permissions (it must stay 0700)",
      { dataDir: dir, ...describeTightened(before) },
    );
  }
  return {
    async afterOpen() {
      const after = await tightenPrivateTree(dir, { followRoot: true });
      if (after.length > 0) {
        logger.warn("files created in the data directory were open to other users; made them private", {
          dataDir: dir,
          ...describeTightened(after),
        });
      }
    },
  };
}
