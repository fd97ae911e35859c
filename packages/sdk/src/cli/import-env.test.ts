import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, removeCopies, tempDir } from "../../test/cli-harness.ts";

afterEach(removeCopies);

const adminToken = `ssadm_${"a".repeat(43)}`;

/** The admin API's contract for the routes import-env uses, in memory, pages of two. */
function fakeAdminApi() {
  const secrets = new Map<string, { id: string; value: string | undefined }>();
  const grants = new Map<string, Set<string>>();
  const requests: { method: string; path: string }[] = [];
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const summary = (name: string) => {
    const secret = secrets.get(name);
    return {
      id: secret?.id,
      name,
      hasValue: secret?.value !== undefined,
      isStub: secret?.value === undefined,
    };
  };
  async function fetch(url: string, init: RequestInit): Promise<Response> {
    const { pathname, searchParams } = new URL(url);
    requests.push({ method: init.method ?? "GET", path: pathname });
    const headers = new Headers(init.headers);
    if (headers.get("authorization") !== `Bearer ${adminToken}`) {
      return json(401, {
        error: {
          code: "UNAUTHENTICATED",
          message: "Admin credentials are missing or not valid",
          requestId: "r1",
        },
      });
    }
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    if (init.method === "GET" && pathname === "/admin/secrets") {
      const names = [...secrets.keys()].sort();
      const start = Number(searchParams.get("cursor") || 0);
      const page = names.slice(start, start + 2);
      const nextCursor = start + 2 < names.length ? String(start + 2) : "";
      return json(200, { secrets: page.map(summary), nextCursor });
    }
    if (init.method === "POST" && pathname === "/admin/secrets") {
      const existing = secrets.get(body.name);
      secrets.set(body.name, { id: existing?.id ?? `id-${body.name}`, value: body.value });
      return json(existing ? 200 : 201, { secret: summary(body.name) });
    }
    if (init.method === "POST" && pathname === "/admin/access-requests") {
      if (!secrets.has(body.secretName))
        return json(404, { error: { code: "NOT_FOUND", message: "No secret" } });
      const services = grants.get(body.secretName) ?? new Set();
      const created = !services.has(body.serviceName);
      services.add(body.serviceName);
      grants.set(body.secretName, services);
      return json(created ? 201 : 200, { accessRequest: { status: "granted" }, created });
    }
    return json(404, { error: { code: "NOT_FOUND", message: "no route" } });
  }
  return { secrets, grants, requests, fetch };
}

const env = { SECRETS_ADMIN_URL: "http://admin.test/admin/", SECRETS_ADMIN_TOKEN: adminToken };

function envFile(text: string): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, ".env");
  writeFileSync(file, text);
  return { dir, file };
}

describe("secrets import-env", () => {
  it("creates or updates each secret, grants access, and prints what changed without a value", async () => {
    const api = fakeAdminApi();
    api.secrets.set("EXISTING", { id: "s1", value: "old-value-1" });
    api.secrets.set("STUBBED", { id: "s2", value: undefined });
    api.grants.set("EXISTING", new Set(["orders"]));
    const { dir } = envFile(
      "# orders\nNEW_ONE=value-alpha-1\nexport EXISTING='value-beta-2'\nSTUBBED=\"value-gamma-3\" # set\nEMPTY=\n",
    );
    const result = await cli(["import-env", ".env", "--service", "orders", "--grant"], {
      cwd: dir,
      env,
      fetch: api.fetch,
    });
    expect(result).toEqual({
      code: 0,
      stdout: [
        "EMPTY: skipped (empty value)",
        "NEW_ONE: created; access granted to orders",
        "EXISTING: updated; access of orders granted (an access request already existed)",
        "STUBBED: value set (was missing); access granted to orders",
        "imported 3 secrets: 1 created, 2 updated; access granted to orders for 3",
      ],
      stderr: [],
    });
    expect(Object.fromEntries([...api.secrets].map(([name, s]) => [name, s.value]))).toEqual({
      EXISTING: "value-beta-2",
      STUBBED: "value-gamma-3",
      NEW_ONE: "value-alpha-1",
    });
    expect(JSON.stringify(result)).not.toMatch(/value-(alpha|beta|gamma)/);
  });

  it("changes nothing with --dry-run, and prints the plan", async () => {
    const api = fakeAdminApi();
    for (const name of ["A", "B", "C"]) api.secrets.set(name, { id: name, value: "v" });
    const { dir } = envFile("A=1\nD=2\nE=3\n");
    const result = await cli(["import-env", ".env", "--service", "orders", "--dry-run", "--grant"], {
      cwd: dir,
      env,
      fetch: api.fetch,
    });
    expect(result.stdout).toEqual([
      "A: would update (replacing its current value); would grant access to orders",
      "D: would create; would grant access to orders",
      "E: would create; would grant access to orders",
      "dry run: 2 to create, 1 to update; nothing was changed",
    ]);
    expect(api.requests.every((r) => r.method === "GET")).toBe(true);
    // Pages of two: the listing followed the cursor.
    expect(api.requests).toHaveLength(2);
    expect(api.secrets.get("A")?.value).toBe("v");
  });

  it("refuses bad input by line number and imports nothing", async () => {
    const api = fakeAdminApi();
    const { dir } = envFile(
      "GOOD=1\nlower_case=secret-value-x\n9STARTS_WITH_DIGIT=2\nBAD='unterminated secret-value-y\nLATER=3\n",
    );
    const result = await cli(["import-env", ".env", "--service", "orders"], {
      cwd: dir,
      env,
      fetch: api.fetch,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      '.env:2: "lower_case" is not a valid secret name: it must match ^[A-Z][A-Z0-9_]{0,127}$ (upper-case letters, digits, _)',
      '.env:3: "9STARTS_WITH_DIGIT" is not a valid secret name: it must match ^[A-Z][A-Z0-9_]{0,127}$ (upper-case letters, digits, _)',
      ".env:4: BAD: unterminated single quote (the value opened here never closes)",
      "secrets: .env: 3 problems; nothing was imported",
    ]);
    expect(api.requests).toEqual([]);
    expect(JSON.stringify(result)).not.toContain("secret-value");
  });

  it("reads standard input with -", async () => {
    const api = fakeAdminApi();
    const result = await cli(["import-env", "-", "--service", "orders"], {
      cwd: tempDir(),
      env,
      fetch: api.fetch,
      stdin: "FROM_STDIN=x\n",
    });
    expect(result.stdout).toEqual([
      "FROM_STDIN: created",
      "imported 1 secrets: 1 created, 0 updated",
      'service "orders" asks for access when it first reads each secret; an admin approves it (or run again with --grant)',
    ]);
  });

  it("reports the admin API's refusal without the request body", async () => {
    const api = fakeAdminApi();
    const { dir } = envFile("A=value-delta-4\n");
    const result = await cli(["import-env", ".env", "--service", "orders", "--token", "wrong"], {
      cwd: dir,
      env: { SECRETS_ADMIN_URL: "http://admin.test/admin" },
      fetch: api.fetch,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      "secrets: GET /secrets failed: HTTP 401 UNAUTHENTICATED Admin credentials are missing or not valid (check --token / SECRETS_ADMIN_TOKEN), request id r1",
    ]);
  });

  it.each([
    [["import-env"], "one .env file"],
    [["import-env", ".env"], "needs --service"],
    [["import-env", ".env", "--service", "Bad Name"], "--service must match"],
    [["import-env", ".env", "--service", "orders", "--frobnicate"], "Unknown option '--frobnicate'"],
  ])("exits 2 with the usage for %j", async (argv, message) => {
    const result = await cli(argv, { cwd: tempDir(), env });
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toContain(message);
    expect(result.stderr.join("\n")).toContain("Usage: secrets <command>");
  });

  it("exits 2 without the admin API's URL or token", async () => {
    const noUrl = await cli(["import-env", ".env", "--service", "orders"], { cwd: tempDir(), env: {} });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr[0]).toContain("SECRETS_ADMIN_URL");
    const noToken = await cli(["import-env", ".env", "--service", "orders", "--url", "http://x"], {
      cwd: tempDir(),
      env: {},
    });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr[0]).toContain("SECRETS_ADMIN_TOKEN");
  });
});

describe("secrets usage", () => {
  it("exits 2 with the usage for a missing or unknown command, 0 for help", async () => {
    expect((await cli([], { cwd: tempDir() })).code).toBe(2);
    const unknown = await cli(["frobnicate"], { cwd: tempDir() });
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.arrayContaining(['secrets: unknown command "frobnicate"']),
    });
    expect((await cli(["generate", "a", "b"], { cwd: tempDir() })).code).toBe(2);
    const help = await cli(["help"], { cwd: tempDir() });
    expect(help.code).toBe(0);
    expect(help.stdout[0]).toContain("import-env <file|-> --service <name>");
  });
});
