import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("rate limits keyed to what the caller presents", () => {
  it("allows ADMIN_LOGIN_RATE_PER_MINUTE sign-ins per token, then 429 with Retry-After until a token refills", async () => {
    const h = createHarness({ config: { loginRatePerMinute: 10 } });
    const login = (token: string, ip?: string) =>
      h.call("POST", "/session", { body: { token }, ...(ip ? { ip } : {}) });
    for (let i = 0; i < 10; i++) expect((await login(h.adminToken)).status).toBe(200);
    const limited = await login(h.adminToken, "198.51.100.1");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("6");
    expect(limited.json.error).toMatchObject({
      code: "RATE_LIMITED",
      requestId: limited.headers["x-request-id"],
    });
    // Another admin's token from the same address is not touched.
    expect((await login(h.vault.addAdmin("bob"))).status).toBe(200);
    expect(h.vault.callsOf("createSession")).toHaveLength(11);
    h.clock.advance(6_000);
    expect((await login(h.adminToken)).status).toBe(200);
  });

  it("takes the budget before the vault is asked: of 100 concurrent bad tokens, the budget's worth reach it", async () => {
    const h = createHarness({ config: { authFailureRatePerMinute: 10 } });
    const session = /^[^=]+=([^;]+);/.exec(
      (await h.call("POST", "/session", { body: { token: h.adminToken } })).setCookie[0] ?? "",
    );
    const cookie = `${session?.[0].split("=")[0]}=${session?.[1]}`;
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => h.call("GET", "/secrets", { token: `ssadm_wrong${i}` })),
    ).then((all) => all.map((r) => r.status));
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90);
    expect(h.vault.callsOf("authenticate")).toHaveLength(10);
    // The session and the token that signed in are known valid: the flood does not touch them.
    expect((await h.call("GET", "/secrets", { cookie })).status).toBe(200);
    expect((await h.call("GET", "/secrets", { token: h.adminToken })).status).toBe(200);
  });

  it("refuses every credential not known valid from an address after too many failures, a right one included", async () => {
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
    expect((await h.call("GET", "/secrets", { cookie: "__Host-secrets_session=bad" })).status).toBe(401);
    expect((await h.call("GET", "/secrets", { token: "Bearer-less" })).status).toBe(401);
    expect((await h.call("POST", "/session", { body: { token: h.adminToken } })).status).toBe(429);
  });
});
