/** File primitives for the TLS store: durable writes with exact modes, and an exclusive lock file. */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Creates `path` (it must not exist) with `text`, mode exactly `mode`, flushed to disk. */
export function writeDurably(path: string, text: string, mode: number): void {
  const fd = openSync(path, "wx", mode);
  try {
    fchmodSync(fd, mode); // the umask must not change what we ask for
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (after creating or renaming files in it). */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The file's text, or undefined when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** True when renaming failed because the target directory already holds files (another process won). */
export function lostRenameRace(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOTEMPTY" || code === "EEXIST";
}

const lockName = "renew.lock";

/**
 * Takes `dir/renew.lock` by creating it exclusively; returns its release function, or undefined when
 * another process holds it. A lock older than `staleMs` belongs to a process that died and is removed.
 */
export function tryLock(dir: string, staleMs: number): (() => void) | undefined {
  const path = join(dir, lockName);
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    try {
      if (Date.now() - statSync(path).mtimeMs > staleMs) unlinkSync(path);
    } catch {
      // Released or removed meanwhile: the next attempt sees.
    }
    return undefined;
  }
  return () => {
    try {
      unlinkSync(path);
    } catch {
      // Already removed as stale by another process; nothing to release.
    }
  };
}
