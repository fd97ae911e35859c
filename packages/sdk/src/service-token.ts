/**
 * The service's own token: 256 random bits in base64url, generated once into `<dataDir>/service-token`
 * (mode 0600, folder 0700) and reused across restarts, so an admin approves a service once. Keep the data
 * directory on a persistent volume: a lost token is a new token that needs a new approval.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
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

/** The stored token, or undefined when there is none yet. Refuses a file others can read. */
function readTokenFile(file: string, serviceName: string): ServiceToken | undefined {
  let mode: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw configurationError(`${file} is not a regular file`, serviceName);
    mode = stat.mode & 0o777;
  } catch (error) {
    // Not there yet (ENOTDIR: the data directory is not a folder; creating it will say so).
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return undefined;
    if (error instanceof SecretsConfigurationError) throw error;
    throw configurationError(
      `Cannot read the service token file ${file} (${errorCode(error)})`,
      serviceName,
      error,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw configurationError(
      `The service token file ${file} is accessible by group or others (mode 0${mode.toString(8)}); ` +
        `the token is the service's credential: run \`chmod 600 ${file}\` and restart`,
      serviceName,
    );
  }
  const text = readFileSync(file, "utf8").trim();
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
  const fd = openSync(temp, "wx", 0o600);
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
