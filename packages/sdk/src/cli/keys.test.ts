import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../../test/cli-harness.ts";

const token = `ssadm_${"k".repeat(43)}`;
const env = { SECRETS_ADMIN_URL: "http://admin.test", SECRETS_ADMIN_TOKEN: token };

function fakeKeysApi() {
  const calls: string[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    const { pathname } = new URL(url);
    calls.push(`${init.method} ${pathname}`);
    if (new Headers(init.headers).get("authorization") !== `Bearer ${token}`) {
      return Response.json(
        { error: { code: "UNAUTHENTICATED", message: "no", requestId: "r" } },
        { status: 401 },
      );
    }
    if (init.method === "POST" && pathname === "/keys/rotate") {
      return Response.json({ rotatedAt: "2026-01-01T00:00:00.000Z", pendingRewrap: 42 }, { status: 202 });
    }
    if (init.method === "GET" && pathname === "/keys") {
      return Response.json({
        lastRotatedAt: "2026-01-01T00:00:00.000Z",
        nextRotationAt: "2026-01-31T00:00:00.000Z",
        pendingRewrap: 0,
        keyCount: 1,
      });
    }
    return Response.json({}, { status: 404 });
  };
  return { calls, fetch };
}

describe("secrets keys", () => {
  it("rotates through the admin API and says what happens next", async () => {
    const api = fakeKeysApi();
    const run = await cli(["keys", "rotate"], { cwd: tempDir(), env, fetch: api.fetch });
    expect(run.code).toBe(0);
    expect(api.calls).toEqual(["POST /keys/rotate"]);
    expect(run.stdout.join("\n")).toContain("42 stored values are being re-encrypted");
  });

  it("shows the status", async () => {
    const api = fakeKeysApi();
    const run = await cli(["keys", "status"], { cwd: tempDir(), env, fetch: api.fetch });
    expect(run.stdout.join("\n")).toMatch(/Next rotation:\s+2026-01-31/);
  });

  it("explains a bad token, and a missing action or URL", async () => {
    const api = fakeKeysApi();
    const denied = await cli(["keys", "rotate"], {
      cwd: tempDir(),
      env: { ...env, SECRETS_ADMIN_TOKEN: "wrong" },
      fetch: api.fetch,
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr.join("\n")).toMatch(/401.*SECRETS_ADMIN_TOKEN/);
    expect((await cli(["keys"], { cwd: tempDir(), env })).code).toBe(2);
    expect((await cli(["keys", "rotate"], { cwd: tempDir(), env: {} })).stderr.join("\n")).toMatch(
      /SECRETS_ADMIN_URL/,
    );
  });
});
