import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretsConfigurationError } from "./errors.ts";
import { generateServiceToken } from "./service-token.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sdk-token-"));
  dirs.push(dir);
  return dir;
}

const thrown = (run: () => unknown): Error => {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
};

describe("generateServiceToken", () => {
  it("generates 256 random bits in base64url into a 0600 file in a 0700 folder", () => {
    const dataDir = join(tempDir(), "data", "nested");
    const generated = generateServiceToken({ dataDir, serviceName: "orders" });
    expect(generated).toMatchObject({
      serviceName: "orders",
      created: true,
      file: join(dataDir, "service-token"),
    });
    expect(generated.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(generated.token, "base64url")).toHaveLength(32);
    expect(statSync(generated.file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(generated.file, "utf8"))).toEqual({
      serviceName: "orders",
      token: generated.token,
    });
    // No temporary file is left behind.
    expect(readdirSync(dataDir)).toEqual(["service-token"]);
  });

  it("reuses the stored token (a restart), and two services get different tokens", () => {
    const dataDir = tempDir();
    const first = generateServiceToken({ dataDir, serviceName: "orders" });
    const again = generateServiceToken({ dataDir, serviceName: "orders" });
    expect(again).toEqual({ ...first, created: false });
    const other = generateServiceToken({ dataDir: tempDir(), serviceName: "orders" });
    expect(other.token).not.toBe(first.token);
  });

  it("refuses a token file that group or others can read, saying how to fix it", () => {
    const dataDir = tempDir();
    const { file, token } = generateServiceToken({ dataDir, serviceName: "orders" });
    chmodSync(file, 0o644);
    const error = thrown(() => generateServiceToken({ dataDir, serviceName: "orders" }));
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    expect(error.message).toContain("accessible by group or others (mode 0644)");
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect(error.message).not.toContain(token);
    chmodSync(file, 0o640);
    expect(() => generateServiceToken({ dataDir, serviceName: "orders" })).toThrowError(/mode 0640/);
    chmodSync(file, 0o600);
    expect(generateServiceToken({ dataDir, serviceName: "orders" }).token).toBe(token);
  });

  it("refuses another service's token file", () => {
    const dataDir = tempDir();
    generateServiceToken({ dataDir, serviceName: "orders" });
    expect(() => generateServiceToken({ dataDir, serviceName: "billing" })).toThrowError(
      /holds the token of service "orders", not "billing"/,
    );
  });

  it("accepts a bare token written by hand, and refuses a file that is not a token without quoting it", () => {
    const dataDir = tempDir();
    const file = join(dataDir, "service-token");
    const bare = Buffer.alloc(32, 7).toString("base64url");
    writeFileSync(file, `${bare}\n`, { mode: 0o600 });
    expect(generateServiceToken({ dataDir, serviceName: "orders" })).toMatchObject({
      token: bare,
      created: false,
    });
    writeFileSync(file, "short-secret-text", { mode: 0o600 });
    const error = thrown(() => generateServiceToken({ dataDir, serviceName: "orders" }));
    expect(error.message).toContain("does not hold a valid service token");
    expect(error.message).not.toContain("short-secret-text");
    writeFileSync(file, '{"token": broken-secret', { mode: 0o600 });
    const broken = thrown(() => generateServiceToken({ dataDir, serviceName: "orders" }));
    expect(`${broken.message} ${String(broken.cause)}`).not.toContain("broken-secret");
  });

  it("refuses an invalid service name", () => {
    expect(() => generateServiceToken({ dataDir: tempDir(), serviceName: "Orders Service" })).toThrowError(
      /Invalid service name "Orders Service"/,
    );
  });

  it("says so when the data directory cannot be created", () => {
    const notADirectory = join(tempDir(), "file");
    writeFileSync(notADirectory, "");
    const error = thrown(() =>
      generateServiceToken({ dataDir: join(notADirectory, "data"), serviceName: "orders" }),
    );
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    expect(error.message).toContain("must be writable");
  });
});
