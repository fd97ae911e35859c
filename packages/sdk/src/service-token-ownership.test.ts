/**
 * A token file is adopted only if it is this user's alone. Each refusal is a configuration error that
 * names the path and the fix, never a silent new registration (which would leave the approved token
 * behind) and never the adoption of a credential someone else holds.
 *
 * These tests run as root (as the test environment does): they hand files to uid 65534 (`nobody`) with
 * chown, and run one probe as that user.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretsConfigurationError } from "./errors.ts";
import { generateServiceToken } from "./service-token.ts";

const nobody = 65534;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sdk-token-owner-"));
  dirs.push(dir);
  return dir;
}

const validTokenFile = () =>
  `${JSON.stringify({ serviceName: "orders", token: Buffer.alloc(32, 7).toString("base64url") })}\n`;

function refusal(dataDir: string): SecretsConfigurationError {
  try {
    generateServiceToken({ dataDir, serviceName: "orders" });
  } catch (error) {
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    return error as SecretsConfigurationError;
  }
  throw new Error(`expected ${dataDir} to be refused`);
}

describe("generateServiceToken refuses a token file that is not this user's alone", () => {
  it("is running as root, so that it can plant files as another user", () => {
    expect(process.getuid?.()).toBe(0);
  });

  it("refuses a token file another uid planted (a valid token, mode 0600), naming the path and the owner", () => {
    const dataDir = tempDir();
    const file = join(dataDir, "service-token");
    writeFileSync(file, validTokenFile(), { mode: 0o600 });
    chownSync(file, nobody, nobody);
    const error = refusal(dataDir);
    expect(error.message).toContain(file);
    expect(error.message).toContain(`belongs to uid ${nobody}`);
    expect(error.message).toContain("Move it away");
    expect(error.message).not.toContain(Buffer.alloc(32, 7).toString("base64url"));
    expect(readFileSync(file, "utf8")).toBe(validTokenFile());
  });

  it("refuses a symlink, even to a token file this user owns", () => {
    const dataDir = tempDir();
    const target = join(tempDir(), "elsewhere");
    writeFileSync(target, validTokenFile(), { mode: 0o600 });
    symlinkSync(target, join(dataDir, "service-token"));
    const error = refusal(dataDir);
    expect(error.message).toContain(join(dataDir, "service-token"));
    expect(error.message).toContain("symbolic link");
  });

  it("refuses a dangling symlink at every start instead of registering a new token each time", () => {
    const dataDir = tempDir();
    const target = join(tempDir(), "not-yet");
    symlinkSync(target, join(dataDir, "service-token"));
    expect(refusal(dataDir).message).toContain("symbolic link");
    expect(refusal(dataDir).message).toContain("symbolic link");
    // Nothing was written through the link, and no temporary file is left beside it.
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dataDir)).toEqual(["service-token"]);
  });

  it("refuses a FIFO in the token file's place without blocking on it", () => {
    const dataDir = tempDir();
    const file = join(dataDir, "service-token");
    expect(spawnSync("mkfifo", ["-m", "600", file]).status).toBe(0);
    expect(refusal(dataDir).message).toBe(`${file} is not a regular file`);
  });

  it("refuses a data directory others can write to, saying how to fix it", () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o777);
    const error = refusal(dataDir);
    expect(error.message).toContain(`The service token directory ${dataDir} is writable by group or others`);
    expect(error.message).toContain(`chmod 700 ${dataDir}`);
    expect(readdirSync(dataDir)).toEqual([]);
    chmodSync(dataDir, 0o1777); // sticky, like /tmp: still anyone's to fill
    expect(refusal(dataDir).message).toContain("writable by group or others");
  });

  it("refuses a data directory that belongs to another user", () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755);
    chownSync(dataDir, nobody, nobody);
    const error = refusal(dataDir);
    expect(error.message).toContain(`${dataDir} belongs to uid ${nobody}`);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("treats a token file that exists but cannot be read as an error, not as absent", () => {
    // As root every file is readable, so the probe runs as `nobody`, in a directory it owns.
    const dataDir = tempDir();
    chownSync(dataDir, nobody, nobody);
    const file = join(dataDir, "service-token");
    writeFileSync(file, validTokenFile(), { mode: 0o200 });
    chownSync(file, nobody, nobody);
    chmodSync(file, 0o200);
    const probe = `
      const { generateServiceToken } = await import(${JSON.stringify(join(import.meta.dirname, "service-token.ts"))});
      try {
        const result = generateServiceToken({ dataDir: ${JSON.stringify(dataDir)}, serviceName: "orders" });
        console.log(JSON.stringify({ created: result.created }));
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, message: error.message }));
      }`;
    const run = spawnSync(process.execPath, ["-e", probe], {
      uid: nobody,
      gid: nobody,
      encoding: "utf8",
      cwd: tmpdir(),
    });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout.trim())).toEqual({
      name: "SecretsConfigurationError",
      message: expect.stringContaining(`The service token file ${file} exists but cannot be read (EACCES)`),
    });
    expect(readdirSync(dataDir)).toEqual(["service-token"]);
  });
});
