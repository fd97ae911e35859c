/**
 * The bootstrap admin token does not linger: while it works the vault's log and `GET /session` (the
 * dashboard's warning) say so; it is revoked like any admin token (`bun run admin:token revoke`); and a
 * vault restarted with it still in its environment keeps it revoked. Real processes: the vault, the admin
 * API and the CLI, on PostgreSQL and NATS.
 */
import { createHash } from "node:crypto";
import { adminOperations, ErrorCode, request } from "@secrets/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { repoRoot, type ServiceProcess } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newAdminToken } from "../support/tokens.ts";

const bootstrapToken = newAdminToken();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
let stack: Stack;
let vault: ServiceProcess;
let adminUrl: string;

const logged = (process: ServiceProcess, msg: RegExp) =>
  process.lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line);
      return typeof entry.msg === "string" && msg.test(entry.msg) ? [entry] : [];
    } catch {
      return [];
    }
  });

/** `bun run admin:token …` against the stack's database, as an operator runs it. */
async function adminTokenCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  const child = Bun.spawn(["bun", "run", "admin:token", ...args], {
    cwd: repoRoot,
    env: stack.env({ DATABASE_URL: stack.databaseUrl, SECRETS_DATA_DIR: stack.vaultDataDir }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return { code, stdout };
}

const authenticate = (token: string) =>
  request(
    stack.bus,
    adminOperations.authenticate,
    {
      tokenHash: sha256(token),
      ipAddress: "127.0.0.1",
      userAgent: "bootstrap-test",
      requestId: "req-bootstrap",
    },
    { timeoutMs: 5_000 },
  ).then(
    (reply) => ({ ok: true, name: reply.admin?.name }),
    (error: { code?: ErrorCode }) => ({ ok: false, code: error.code }),
  );

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: bootstrapToken });
  adminUrl = (await stack.startAdminApi()).url;
}, 60_000);

afterAll(async () => {
  await stack?.dispose();
});

describe("the bootstrap admin token", () => {
  let named = "";

  it("is installed on the first start, and the vault warns that it is still active", () => {
    expect(logged(vault, /^stored the bootstrap admin token$/)).toHaveLength(1);
    expect(logged(vault, /^the bootstrap admin token is still active/)).toEqual([
      expect.objectContaining({ level: "warn", admin: "admin" }),
    ]);
    for (const line of vault.lines) expect(line).not.toContain(bootstrapToken);
  });

  it("is reported by GET /session, so the dashboard warns", async () => {
    const http = adminHttpClient(adminUrl);
    const session = await http.send("GET", "/session", { credential: { token: bootstrapToken } });
    expect(session.status).toBe(200);
    expect(session.json).toMatchObject({ admin: { name: "admin" }, bootstrapTokenActive: true });
  });

  it("is replaced by a named admin and revoked with the admin-token CLI", async () => {
    const created = await adminTokenCli("create", "--name", "alice");
    expect(created.code).toBe(0);
    named = created.stdout.match(/ssadm_[A-Za-z0-9_-]{43}/)?.[0] ?? "";
    expect(named).not.toBe("");
    const revoked = await adminTokenCli("revoke", "--name", "admin");
    expect(revoked).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("Revoked 1 admin token(s): admin"),
    });

    expect(await authenticate(bootstrapToken)).toEqual({ ok: false, code: ErrorCode.UNAUTHENTICATED });
    const http = adminHttpClient(adminUrl);
    const session = await http.send("GET", "/session", { credential: { token: named } });
    expect(session.json).toMatchObject({ admin: { name: "alice" }, bootstrapTokenActive: false });
  });

  it("stays revoked when the vault restarts with it still in the environment", async () => {
    expect(await vault.stop()).toBe(0);
    vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: bootstrapToken });
    expect(logged(vault, /^stored the bootstrap admin token$/)).toEqual([]);
    expect(logged(vault, /^the bootstrap admin token is still active/)).toEqual([]);
    // It says that the variable holds a dead token, so the operator deletes it.
    expect(logged(vault, /^ADMIN_BOOTSTRAP_TOKEN holds a revoked admin token/)).toEqual([
      expect.objectContaining({ level: "warn", admin: "admin" }),
    ]);
    expect(await authenticate(bootstrapToken)).toEqual({ ok: false, code: ErrorCode.UNAUTHENTICATED });
    expect(await authenticate(named)).toEqual({ ok: true, name: "alice" });
    const http = adminHttpClient(adminUrl);
    const session = await http.send("GET", "/session", { credential: { token: named } });
    expect(session.json).toMatchObject({ bootstrapTokenActive: false });
  });
});
