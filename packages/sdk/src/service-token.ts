/**
 * The service's own token: 256 random bits in base64url, generated once into `<dataDir>/service-token`
 * (mode 0600, folder 0700) and reused across restarts, so an admin approves a service once. Keep the data
 * directory on a persistent volume: a lost token is a new token that needs a new approval.
 *
 * The file is adopted only if it is this user's alone: opened without following a symlink, owned by this
 * process's uid, no group or other bits, in a directory no one else can write. Anything else (a token
 * another user planted, a symlink, a file that exists but cannot be read) is an error naming the path and
 * the fix, never a silent new registration.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { checkNewToken, checkServiceName, tokenFingerprint } from "@secrets/validation";
import { SecretsConfigurationError } from "./errors.ts";

export const tokenFileName = "service-token";

export interface ServiceToken {
  /** Never log it. */
  token: string;
  serviceName: string;
  /** The file that holds it. */
  file: string;
  /** True when this call generated the token, false when it was already stored. */
  created: boolean;
}

/**
 * The token's fingerprint (first 8 hex characters of its SHA-256), as the dashboard shows it beside a
 * pending registration: the SDK logs it at start-up so an operator can tell an admin which token is theirs.
 */
export function serviceTokenFingerprint(token: string): string {
  return tokenFingerprint(createHash("sha256").update(token, "utf8").digest("hex"));
}

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
}

function configurationError(
  message: string,
  serviceName: string,
  cause?: unknown,
): SecretsConfigurationError {
  return new SecretsConfigurationError(message, { serviceName, reason: "TOKEN_FILE", cause });
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`;

/** This process's uid; undefined where there are none (Windows), and then no owner is checked. */
const ownUid = (): number | undefined => process.getuid?.();

/**
 * Refuses a data directory that another user could write to: whoever can write there can put their own
 * token in place (or a symlink), and the service would adopt a credential they also hold. An absent
 * directory is fine: it is created 0700.
 */
function checkTokenDirectory(dir: string, serviceName: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (error) {
    // Absent, or under a file (ENOTDIR): creating it says what is wrong.
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return;
    throw configurationError(
      `Cannot inspect the service token directory ${dir} (${errorCode(error)})`,
      serviceName,
      error,
    );
  }
  if (!stat.isDirectory()) throw configurationError(`${dir} is not a directory`, serviceName);
  if ((stat.mode & 0o022) !== 0) {
    throw configurationError(
      `The service token directory ${dir} is writable by group or others (mode ${octal(stat.mode)}), so another ` +
        `user could plant a token there: run \`chmod 700 ${dir}\` (or \`chmod go-w ${dir}\`) and restart`,
      serviceName,
    );
  }
  const uid = ownUid();
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
    throw configurationError(
      `The service token directory ${dir} belongs to uid ${stat.uid}, not to this process (uid ${uid}), so its ` +
        `owner could plant a token there: give each service a data directory of its own (\`chown ${uid} ${dir}\`)`,
      serviceName,
    );
  }
}

/**
 * Opens the token file itself, never what a symlink points to, and never blocks on a FIFO planted in its
 * place. Undefined when there is no file yet.
 */
function openTokenFile(file: string, serviceName: string): number | undefined {
  try {
    return openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    // Not there yet (ENOTDIR: the data directory is not a folder; creating it will say so).
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP" || code === "EMLINK") {
      throw configurationError(
        `The service token file ${file} is a symbolic link; the SDK does not follow one (whoever points it ` +
          `chooses the credential): replace it with the token file itself, or move it away to register a new token`,
        serviceName,
      );
    }
    // It exists but cannot be read: registering a new token instead would discard the approved one.
    throw configurationError(
      `The service token file ${file} exists but cannot be read (${code}): give this process read access ` +
        `(it must own the file, mode 0600), or move it away to register a new token`,
      serviceName,
      error,
    );
  }
}

/** Refuses, on the open descriptor (what is read), a file that is not ours alone. */
function checkTokenFile(fd: number, file: string, serviceName: string): void {
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw configurationError(`${file} is not a regular file`, serviceName);
  const uid = ownUid();
  if (uid !== undefined && stat.uid !== uid) {
    throw configurationError(
      `The service token file ${file} belongs to uid ${stat.uid}, not to this process (uid ${uid}): someone else ` +
        `wrote it and may hold the token. Move it away to register a new token (an admin approves it)`,
      serviceName,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    throw configurationError(
      `The service token file ${file} is accessible by group or others (mode ${octal(stat.mode)}); ` +
        `the token is the service's credential: run \`chmod 600 ${file}\` and restart`,
      serviceName,
    );
  }
}

/** The stored token, or undefined when there is none yet. Refuses a file that is not this user's alone. */
function readTokenFile(file: string, serviceName: string): ServiceToken | undefined {
  const fd = openTokenFile(file, serviceName);
  if (fd === undefined) return undefined;
  let raw: string;
  try {
    checkTokenFile(fd, file, serviceName);
    raw = readFileSync(fd, "utf8");
  } catch (error) {
    if (error instanceof SecretsConfigurationError) throw error;
    throw configurationError(
      `Cannot read the service token file ${file} (${errorCode(error)})`,
      serviceName,
      error,
    );
  } finally {
    closeSync(fd);
  }
  const text = raw.trim();
  let stored: { token?: unknown; serviceName?: unknown };
  try {
    stored = text.startsWith("{") ? JSON.parse(text) : { token: text };
  } catch {
    // The parser's message may quote the file, which holds a token: it is not passed on as the cause.
    throw configurationError(
      `${file} is not a service token file; move it away to generate a new token`,
      serviceName,
    );
  }
  const token = typeof stored.token === "string" ? stored.token : "";
  if (checkNewToken(token).length > 0) {
    throw configurationError(
      `${file} does not hold a valid service token (256 random bits in base64url); move it away to generate a new one`,
      serviceName,
    );
  }
  if (typeof stored.serviceName === "string" && stored.serviceName !== serviceName) {
    throw configurationError(
      `${file} holds the token of service "${stored.serviceName}", not "${serviceName}": give each service its own ` +
        `data directory (or delete the file to register a new token for "${serviceName}", which an admin must approve)`,
      serviceName,
    );
  }
  return { token, serviceName, file, created: false };
}

/** Writes `content` to `file` only if it does not exist yet: temp file, fsync, then an atomic link. */
function writeNewFile(dir: string, file: string, content: string): boolean {
  const temp = join(dir, `.${tokenFileName}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  // Created here, by this process (O_EXCL), never through a symlink: the file's owner and mode are ours.
  const fd = openSync(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link, unlike rename, fails when the target exists: two replicas starting together keep one token.
    linkSync(temp, file);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    renameSync(temp, file); // a filesystem without hard links
    return true;
  } finally {
    try {
      unlinkSync(temp);
    } catch {}
  }
  try {
    const dirFd = openSync(dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the file itself is already durable.
  }
  return true;
}

/**
 * Returns the service's token, generating and storing it on first use.
 *
 * @example
 * const { token, created } = generateServiceToken({ dataDir: "./data", serviceName: "orders" });
 */
export function generateServiceToken(options: { dataDir: string; serviceName: string }): ServiceToken {
  const { serviceName } = options;
  const violations = checkServiceName(serviceName, "serviceName");
  if (violations.length > 0) {
    throw configurationError(
      `Invalid service name "${serviceName}": ${violations.map((v) => v.description).join("; ")}`,
      serviceName,
    );
  }
  const dir = resolve(options.dataDir);
  const file = join(dir, tokenFileName);
  checkTokenDirectory(dir, serviceName);
  const stored = readTokenFile(file, serviceName);
  if (stored) return stored;
  const token = randomBytes(32).toString("base64url");
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!writeNewFile(dir, file, `${JSON.stringify({ serviceName, token })}\n`)) {
      const winner = readTokenFile(file, serviceName);
      if (winner) return winner;
    }
  } catch (error) {
    if (error instanceof SecretsConfigurationError) throw error;
    throw configurationError(
      `Cannot store the service token in ${dir} (${errorCode(error) || String(error)}): the data directory must be writable`,
      serviceName,
      error,
    );
  }
  return { token, serviceName, file, created: true };
}
