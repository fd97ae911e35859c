import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/harness.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const origin = "http://localhost";

async function signIn(h: Harness, extra: { origin?: string } = {}) {
  const res = await h.call("POST", "/session", { body: { token: h.adminToken }, ...extra });
  const sessionId = /^__Host-secrets_session=([^;]+);/.exec(res.setCookie[0] ?? "")?.[1] ?? "";
  return { res, sessionId, cookie: `theme=dark; __Host-secrets_session=${sessionId}` };
}

describe("POST /session", () => {
  it("exchanges the admin token for a session cookie holding a random id, never the token", async () => {
    const h = createHarness();
    const { res, sessionId } = await signIn(h, { origin });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ admin: { name: "alice" }, expiresAt: expect.any(String) });
    expect(Date.parse(res.json.expiresAt) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.setCookie).toEqual([
      `__Host-secrets_session=${sessionId}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure`,
    ]);
    expect(res.setCookie.join()).not.toContain(h.adminToken);
    expect(h.vault.callsOf("createSession")).toEqual([
      {
        tokenHash: sha256(h.adminToken),
        sessionHash: sha256(sessionId),
        ipAddress: "203.0.113.7",
        userAgent: "",
        requestId: res.headers["x-request-id"],
      },
    ]);
  });

  it("leaves out Secure when ADMIN_COOKIE_SECURE=false", async () => {
    const h = createHarness({ config: { cookieSecure: false } });
    const { res } = await signIn(h);
    expect(res.setCookie[0]).not.toContain("Secure");
  });

  it("refuses a wrong or empty token (401), and a sign-in from another origin (403)", async () => {
    const h = createHarness();
    const wrong = await h.call("POST", "/session", { body: { token: "ssadm_wrong" } });
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toEqual([]);
    expect((await h.call("POST", "/session", { body: { token: "" } })).status).toBe(401);
    const foreign = await h.call("POST", "/session", {
      body: { token: h.adminToken },
      origin: "https://evil.test",
    });
    expect(foreign.status).toBe(403);
    expect(h.vault.callsOf("createSession")).toHaveLength(1);
  });
});

describe("cookie-authenticated requests", () => {
  it("authenticate with the session's hash and report the session on GET /session", async () => {
    const h = createHarness();
    const { sessionId, cookie, res } = await signIn(h);
    const me = await h.call("GET", "/session", { cookie });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({
      admin: { name: "alice" },
      expiresAt: res.json.expiresAt,
      bootstrapTokenActive: false,
    });
    expect(h.vault.callsOf("authenticateSession")).toEqual([
      {
        sessionHash: sha256(sessionId),
        ipAddress: "203.0.113.7",
        userAgent: expect.any(String),
        requestId: me.headers["x-request-id"],
      },
    ]);
    const list = await h.call("GET", "/secrets", { cookie });
    expect(list.status).toBe(200);
    expect(h.vault.actorOf(h.vault.callsOf("listSecrets")[0]?.admin)).toBe("alice");
  });

  it("need an Origin equal to the API's own for a change (CSRF), but not for a read", async () => {
    const h = createHarness();
    const { cookie } = await signIn(h);
    const body = { name: "CSRF_TARGET", value: "v" };
    expect((await h.call("POST", "/secrets", { cookie, body })).status).toBe(403);
    const foreign = await h.call("POST", "/secrets", { cookie, body, origin: "https://evil.test" });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error.code).toBe("PERMISSION_DENIED");
    expect((await h.call("POST", "/secrets", { cookie, body, origin: "null" })).status).toBe(403);
    expect(h.vault.callsOf("putSecret")).toHaveLength(0);
    expect((await h.call("POST", "/secrets", { cookie, body, origin })).status).toBe(201);
    expect((await h.call("GET", "/secrets", { cookie })).status).toBe(200);
    // A Bearer token is never sent by a browser on its own: no Origin needed.
    expect((await h.call("POST", "/secrets", { token: h.adminToken, body })).status).toBe(200);
  });

  it("compare the Origin with ADMIN_PUBLIC_ORIGIN when it is set", async () => {
    const h = createHarness({ config: { publicOrigin: "https://admin.example.com" } });
    const { cookie } = await signIn(h);
    const body = { name: "X" };
    expect((await h.call("POST", "/secrets", { cookie, body, origin })).status).toBe(403);
    const ok = await h.call("POST", "/secrets", { cookie, body, origin: "https://admin.example.com" });
    expect(ok.status).toBe(201);
  });

  it("stop working after the session expires, and the 401 clears the cookie", async () => {
    const h = createHarness();
    const { cookie } = await signIn(h);
    h.clock.advance(12 * 3_600_000 + 1_000);
    const res = await h.call("GET", "/session", { cookie });
    expect(res.status).toBe(401);
    expect(res.setCookie[0]).toMatch(/^__Host-secrets_session=; Path=\/; Max-Age=0;/);
  });

  it("are read under the __Host- name only when Secure, so a plainly named cookie planted by a subdomain or over HTTP is ignored", async () => {
    const h = createHarness();
    const { sessionId } = await signIn(h);
    const planted = await h.call("GET", "/session", { cookie: `secrets_session=${sessionId}` });
    expect(planted.status).toBe(401);
    expect(h.vault.callsOf("authenticateSession")).toHaveLength(0);
    const plain = createHarness({ config: { cookieSecure: false } });
    const login = await plain.call("POST", "/session", { body: { token: plain.adminToken } });
    expect(login.setCookie[0]).toMatch(
      /^secrets_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
    );
    const cookie = (login.setCookie[0] ?? "").split(";")[0] ?? "";
    expect((await plain.call("GET", "/session", { cookie })).status).toBe(200);
  });

  it("answer 401 for a malformed session id without asking the vault", async () => {
    const h = createHarness();
    const res = await h.call("GET", "/session", { cookie: "__Host-secrets_session=short" });
    expect(res.status).toBe(401);
    expect(h.vault.callsOf("authenticateSession")).toHaveLength(0);
  });
});

describe("GET /session", () => {
  it("says while the bootstrap admin token is still active, so the dashboard warns", async () => {
    const h = createHarness();
    h.vault.state.bootstrapAdminName = "admin";
    const res = await h.call("GET", "/session", { token: h.adminToken });
    expect(res.json).toMatchObject({ admin: { name: "alice" }, bootstrapTokenActive: true });
    const planeStatus = h.vault.callsOf("adminPlaneStatus");
    expect(planeStatus).toHaveLength(1);
    expect(h.vault.actorOf(planeStatus[0]?.admin)).toBe("alice");
    h.vault.state.bootstrapAdminName = "";
    expect((await h.call("GET", "/session", { token: h.adminToken })).json.bootstrapTokenActive).toBe(false);
  });

  it("reports a Bearer admin with no expiry, and 401 without credentials", async () => {
    const h = createHarness();
    expect((await h.call("GET", "/session", { token: h.adminToken })).json).toEqual({
      admin: { name: "alice" },
      expiresAt: null,
      bootstrapTokenActive: false,
    });
    const anonymous = await h.call("GET", "/session");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="secrets-admin"');
  });
});

describe("DELETE /session", () => {
  it("ends the session in the vault and here at once, and clears the cookie", async () => {
    const h = createHarness();
    const { cookie, sessionId } = await signIn(h);
    expect((await h.call("GET", "/session", { cookie })).status).toBe(200);
    expect((await h.call("DELETE", "/session", { cookie })).status).toBe(403);
    const out = await h.call("DELETE", "/session", { cookie, origin });
    expect(out.status).toBe(204);
    expect(out.setCookie).toEqual([
      "__Host-secrets_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure",
    ]);
    expect(h.vault.callsOf("endSession")[0]).toMatchObject({
      sessionHash: sha256(sessionId),
      requestId: out.headers["x-request-id"],
    });
    expect((await h.call("GET", "/session", { cookie })).status).toBe(401);
  });
});

describe("the authentication cache", () => {
  it("asks the vault once per token within ADMIN_AUTH_CACHE_MS, then again", async () => {
    const h = createHarness({ config: { authCacheMs: 5_000 } });
    await h.call("GET", "/secrets", { token: h.adminToken });
    await h.call("GET", "/secrets", { token: h.adminToken });
    expect(h.vault.callsOf("authenticate")).toHaveLength(1);
    h.clock.advance(5_001);
    h.vault.revokeAdmin(h.adminToken);
    expect((await h.call("GET", "/secrets", { token: h.adminToken })).status).toBe(401);
    expect(h.vault.callsOf("authenticate")).toHaveLength(2);
  });

  it("asks every time when set to 0", async () => {
    const h = createHarness({ config: { authCacheMs: 0 } });
    await h.call("GET", "/secrets", { token: h.adminToken });
    await h.call("GET", "/secrets", { token: h.adminToken });
    expect(h.vault.callsOf("authenticate")).toHaveLength(2);
  });
});
