/**
 * The security boundary of every route: one table, checked against the OpenAPI document so that a new
 * route cannot be added without a row. Then: no response, log line or bus payload carries a secret
 * value or an admin token.
 */
import { describe, expect, it } from "vitest";
import { createHarness, type Harness, serialiseExchange } from "../test/harness.ts";

interface Row {
  method: string;
  /** As in the OpenAPI document. */
  path: string;
  body?: unknown;
  /** POST /session takes its credential in the body. */
  bodyCredential?: true;
}

const table: Row[] = [
  { method: "GET", path: "/secrets" },
  { method: "POST", path: "/secrets", body: { name: "TABLE_SECRET", value: "table-value" } },
  { method: "DELETE", path: "/secrets/{id}" },
  { method: "GET", path: "/secrets/{id}/versions" },
  { method: "POST", path: "/secrets/{id}/rollback", body: { version: 1 } },
  { method: "GET", path: "/access-requests" },
  { method: "POST", path: "/access-requests", body: { secretName: "SEEDED", serviceName: "svc" } },
  { method: "POST", path: "/access-requests/{id}/approve" },
  { method: "POST", path: "/access-requests/{id}/deny" },
  { method: "GET", path: "/service-tokens" },
  { method: "POST", path: "/service-tokens/{id}/approve" },
  { method: "POST", path: "/service-tokens/{id}/deny" },
  { method: "POST", path: "/service-tokens/{id}/revoke" },
  { method: "GET", path: "/audit" },
  { method: "GET", path: "/audit/verify" },
  { method: "GET", path: "/audit/signing-key" },
  { method: "GET", path: "/keys" },
  { method: "POST", path: "/keys/rotate" },
  { method: "GET", path: "/session" },
  { method: "DELETE", path: "/session" },
  { method: "POST", path: "/session", bodyCredential: true },
];
const publicRoutes = ["GET /healthz"];

let address = 0;
const freshAddress = () => `198.18.${Math.floor(++address / 250)}.${(address % 250) + 1}`;

function seeded(h: Harness) {
  const secret = h.vault.seedSecret({ name: "SEEDED", hasValue: true, version: 1 });
  h.vault.state.versions.set(secret.id, [{ version: 1, createdAtMs: 0, createdBy: "seed", restoredFrom: 0 }]);
  const access = h.vault.seedAccessRequest({ secretId: secret.id, secretName: "SEEDED", serviceName: "svc" });
  const token = h.vault.seedServiceToken({ serviceName: "svc" });
  return (path: string) =>
    path.startsWith("/secrets/")
      ? path.replace("{id}", secret.id)
      : path.replace("{id}", path.startsWith("/access") ? access.id : token.id);
}

async function send(h: Harness, row: Row, credential: { token?: string; cookie?: string } | undefined) {
  const path = seeded(h)(row.path);
  const ip = freshAddress();
  if (row.bodyCredential) return h.call(row.method, path, { body: { token: credential?.token ?? "" }, ip });
  return h.call(row.method, path, { ...credential, ...(row.body ? { body: row.body } : {}), ip });
}

describe("the security table", () => {
  it("covers every documented route", async () => {
    const h = createHarness();
    const doc = (await h.call("GET", "/swagger/json")).json;
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const covered = [...table.map((r) => `${r.method} ${r.path}`), ...publicRoutes];
    expect(documented.sort()).toEqual(covered.sort());
  });

  describe.each(table)("$method $path", (row) => {
    it("answers 401 without credentials", async () => {
      const h = createHarness();
      const res = await send(h, row, undefined);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHENTICATED");
    });

    it("answers 401 for a wrong token", async () => {
      const h = createHarness();
      expect((await send(h, row, { token: `ssadm_${"x".repeat(43)}` })).status).toBe(401);
    });

    it("answers 401 for a revoked token", async () => {
      const h = createHarness();
      h.vault.revokeAdmin(h.adminToken);
      expect((await send(h, row, { token: h.adminToken })).status).toBe(401);
    });

    // POST /session takes its credential in the body: a cookie is not a credential there.
    if (!row.bodyCredential) {
      it("answers 401 for an unknown session cookie", async () => {
        const h = createHarness();
        const cookie = `__Host-secrets_session=${"A".repeat(43)}`;
        const res = await h.call(row.method, seeded(h)(row.path), {
          cookie,
          origin: "http://localhost",
          ip: freshAddress(),
          ...(row.body ? { body: row.body } : {}),
        });
        expect(res.status).toBe(401);
      });
    }

    it("serves a valid admin", async () => {
      const h = createHarness();
      const res = await send(h, row, { token: h.adminToken });
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(300);
    });
  });

  it("leaves GET /healthz open", async () => {
    expect((await createHarness().call("GET", "/healthz")).status).toBe(200);
  });
});

describe("no leaks", () => {
  it("never sends a value or an admin token in a response, a log line or a bus payload", async () => {
    const h = createHarness();
    const value = `leak-canary-${crypto.randomUUID()}`;
    const origin = "http://localhost";
    const login = await h.call("POST", "/session", { body: { token: h.adminToken }, origin });
    const sessionId = /__Host-secrets_session=([^;]+)/.exec(login.setCookie[0] ?? "")?.[1] ?? "";
    const cookie = `__Host-secrets_session=${sessionId}`;
    await h.call("POST", "/secrets", { cookie, origin, body: { name: "CANARY", value } });
    await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "CANARY", value: `${value}-2` } });
    await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "bad name", value } });
    await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "NUL", value: `${value}\u0000` } });
    await h.call("POST", "/secrets", {
      token: h.adminToken,
      rawBody: `{"name":"X","value":"${value}"`,
      headers: { "content-type": "application/json" },
    });
    await h.call("GET", "/secrets", { cookie });
    await h.call("GET", "/session", { token: h.adminToken });
    await h.call("GET", `/secrets?q=${h.adminToken}`, { token: `${h.adminToken}x` });
    await h.call("DELETE", "/session", { cookie, origin });
    await h.requestLogLines(h.exchanges.length);

    expect(h.vault.state.values.get("CANARY")).toBe(`${value}-2`);
    for (const exchange of h.exchanges) {
      const all = serialiseExchange(exchange);
      expect(all).not.toContain(value);
      expect(all).not.toContain(h.adminToken);
    }
    for (const line of h.logLines) {
      expect(line).not.toContain(value);
      expect(line).not.toContain(h.adminToken);
      expect(line).not.toContain(sessionId);
    }
    for (const payload of h.traffic) {
      const bytes = Buffer.from(payload);
      expect(bytes.includes(value)).toBe(false);
      expect(bytes.includes(h.adminToken)).toBe(false);
      expect(bytes.includes(sessionId)).toBe(false);
    }
  });
});
