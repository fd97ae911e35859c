import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("rate limits per client address", () => {
  it("allows ADMIN_LOGIN_RATE_PER_MINUTE sign-ins, then 429 with Retry-After until a token refills", async () => {
    const h = createHarness({ config: { loginRatePerMinute: 10 } });
    const login = (ip?: string) =>
      h.call("POST", "/session", { body: { token: h.adminToken }, ...(ip ? { ip } : {}) });
    for (let i = 0; i < 10; i++) expect((await login()).status).toBe(200);
    const limited = await login();
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("6");
    expect(limited.json.error).toMatchObject({
      code: "RATE_LIMITED",
      requestId: limited.headers["x-request-id"],
    });
    expect((await login("198.51.100.1")).status).toBe(200);
    expect(h.vault.callsOf("createSession")).toHaveLength(11);
    h.clock.advance(6_000);
    expect((await login()).status).toBe(200);
  });

  it("refuses every credential from an address after too many failures, the right one included", async () => {
    const h = createHarness({ config: { authFailureRatePerMinute: 5 } });
    for (let i = 0; i < 5; i++)
      expect((await h.call("GET", "/secrets", { token: `wrong-${i}` })).status).toBe(401);
    const limited = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBe(12);
    expect(h.vault.callsOf("authenticate")).toHaveLength(5);
    expect((await h.call("GET", "/secrets", { token: h.adminToken, ip: "198.51.100.2" })).status).toBe(200);
    h.clock.advance(12_000);
    expect((await h.call("GET", "/secrets", { token: h.adminToken })).status).toBe(200);
  });

  it("counts failed sign-ins and bad cookies, but not requests without credentials", async () => {
    const h = createHarness({ config: { authFailureRatePerMinute: 3 } });
    for (let i = 0; i < 10; i++) expect((await h.call("GET", "/secrets")).status).toBe(401);
    expect((await h.call("POST", "/session", { body: { token: "ssadm_wrong" } })).status).toBe(401);
    expect((await h.call("GET", "/secrets", { cookie: "secrets_session=bad" })).status).toBe(401);
    expect((await h.call("GET", "/secrets", { token: "Bearer-less" })).status).toBe(401);
    expect((await h.call("POST", "/session", { body: { token: h.adminToken } })).status).toBe(429);
  });
});
