/**
 * Lockout of admins, on the real processes: a flood of bad admin credentials from one address (a
 * balancer's, or an attacker sharing it) gets at most the budget through to the vault, however concurrent,
 * and never refuses an admin whose session or token is already known valid. Each refusal within the budget
 * is an `admin.login` audit event; the rest are counted in a `calls.throttled` summary.
 */
import { AuditEventName } from "@secrets/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { readAuditStream } from "../support/audit-stream.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newAdminToken } from "../support/tokens.ts";

let stack: Stack;
let http: ReturnType<typeof adminHttpClient>;
const adminToken = newAdminToken();
const budget = 10;

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const adminApi = await stack.startAdminApi({
    ADMIN_AUTH_FAILURE_RATE_PER_MINUTE: String(budget),
    // Every request asks the vault: what keeps admins in is the budget design, not the cache.
    ADMIN_AUTH_CACHE_MS: "0",
  });
  http = adminHttpClient(adminApi.url);
});

afterAll(async () => {
  await stack?.dispose();
});

const auditEvents = async () => (await readAuditStream(stack.natsUrl, stack.namespace)).map((e) => e.event);

describe("a flood of bad admin credentials", () => {
  it("lets at most the budget of 100 concurrent bad tokens reach the vault, keeps an existing session and a known token working, and audits every failure", async () => {
    const login = await http.send("POST", "/session", {
      body: { token: adminToken },
      headers: { origin: http.origin },
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/session=/);

    const guesses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        http.send("GET", "/secrets", { credential: { token: `ssadm_guess${i}` } }),
      ),
    );
    const refused = guesses.filter((r) => r.status === 401);
    const throttled = guesses.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(budget);
    expect(refused.length + throttled.length).toBe(100);
    expect(throttled.every((r) => Number(r.headers.get("retry-after")) > 0)).toBe(true);

    // Right after the flood, from the same address: the dashboard's session and the signed-in token.
    expect((await http.send("GET", "/secrets", { credential: { cookie } })).status).toBe(200);
    expect((await http.send("GET", "/session", { credential: { cookie } })).status).toBe(200);
    expect((await http.send("GET", "/secrets", { credential: { token: adminToken } })).status).toBe(200);
    // A credential nobody has seen valid is still throttled: the flood did spend the address's budget.
    expect((await http.send("GET", "/secrets", { credential: { token: "ssadm_another" } })).status).toBe(429);

    // Every refusal within the budget is an audit event with its request id…
    const failures = (await auditEvents()).filter(
      (e) => e.event === AuditEventName.adminLogin && !e.success && e.subject === "bearer token",
    );
    expect(failures.map((e) => e.requestId).sort()).toEqual(
      refused.map((r) => r.headers.get("x-request-id")).sort(),
    );
    expect(failures.every((e) => e.reason === "UNAUTHENTICATED" && e.ipAddress === "127.0.0.1")).toBe(true);
    // …and the throttled ones are counted in summary events, none of them individually.
    const throttledIds = new Set(throttled.map((r) => r.headers.get("x-request-id")));
    expect((await auditEvents()).some((e) => throttledIds.has(e.requestId))).toBe(false);
    await expect
      .poll(
        async () =>
          (await auditEvents())
            .filter(
              (e) =>
                e.event === AuditEventName.callsThrottled &&
                e.subject.startsWith("admin-token refused on the address budget"),
            )
            .reduce((sum, e) => sum + e.refusedCalls, 0),
        { timeout: 10_000, interval: 250 },
      )
      .toBe(throttled.length + 1);
    expect(JSON.stringify(await auditEvents())).not.toContain(adminToken);
  });
});
