/**
 * Brute force, on the real processes: RegisterToken is rate-limited per client address (and the vault caps
 * pending tokens for all gateways together); unknown tokens spend their address's budget and refused tokens
 * their own, taken before the vault is asked, while an approved token from the same address is served at
 * once; calls refused on a spent budget are counted in summary audit events; and admin credentials not known valid
 * are limited per client address (other addresses unaffected), sign-ins per token
 * (`admin-lockout.test.ts` floods the admin API concurrently). Token comparisons are
 * constant-time: only hashes are compared, with `timingSafeEqual`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AuditEventName } from "@secrets/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../support/admin-bus-client.ts";
import { adminHttpClient } from "../support/admin-http.ts";
import { readAuditStream } from "../support/audit-stream.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { repoRoot, sourceFiles } from "../support/import-graph.ts";
import { provisionService } from "../support/provision.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newAdminToken, newServiceToken } from "../support/tokens.ts";

let stack: Stack;
const adminToken = newAdminToken();
const limits = {
  register: 5,
  authFailures: 5,
  tokenRefusals: 10,
  logins: 3,
  adminFailures: 4,
  pendingTokens: 8,
};

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault({
    ADMIN_BOOTSTRAP_TOKEN: adminToken,
    MAX_PENDING_TOKENS: String(limits.pendingTokens),
  });
});

afterAll(async () => {
  await stack?.dispose();
});

const gatewayLimits = () => ({
  RATE_LIMIT_REGISTER_PER_MINUTE: String(limits.register),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: String(limits.authFailures),
});

describe("brute force over gRPC", () => {
  it("limits RegisterToken per peer address, and the vault caps pending tokens across gateways", async () => {
    const gateways = [await stack.startGateway(gatewayLimits()), await stack.startGateway(gatewayLimits())];
    const [first, second] = gateways.map((g) => secretsClient(g.address, g.caFile));
    if (!first || !second) throw new Error("two gateways expected");
    try {
      const burst = [];
      for (let i = 0; i < limits.register + 3; i++)
        burst.push(await first.registerToken(`svc-${i}`, newServiceToken()));
      expect(burst.slice(0, limits.register).every((o) => o.ok)).toBe(true);
      for (const refused of burst.slice(limits.register)) {
        expect(refused).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "RATE_LIMITED" });
        expect(refused.details).toMatch(/try again in \d+ s/);
      }
      // A peer cannot get around the vault's cap by spreading registrations over gateways.
      const spread = [];
      for (let i = 0; i < limits.register; i++)
        spread.push(await second.registerToken(`other-${i}`, newServiceToken()));
      expect(spread.filter((o) => o.ok)).toHaveLength(limits.pendingTokens - limits.register);
      expect(spread.filter((o) => !o.ok).every((o) => o.code === "RESOURCE_EXHAUSTED")).toBe(true);
      const events = await readAuditStream(stack.natsUrl, stack.namespace);
      const registered = events.filter((e) => e.event.event === AuditEventName.tokenRegister);
      // Refused by the gateway's limit: never reached the vault, so never audited as a registration.
      expect(registered.map((e) => e.event.requestId)).not.toEqual(
        expect.arrayContaining(burst.slice(limits.register).map((o) => o.requestId)),
      );
    } finally {
      first.close();
      second.close();
      for (const gateway of gateways) await gateway.process.stop();
    }
  });

  it("lets at most the budget of 100 concurrent bad tokens from one address reach the vault, and still serves an approved token from it at once", async () => {
    const gateway = await stack.startGateway({ ...gatewayLimits(), RATE_LIMIT_REGISTER_PER_MINUTE: "100" });
    const grpc = secretsClient(gateway.address, gateway.caFile);
    const service = { name: "guarded", token: newServiceToken() };
    try {
      // The vault's pending-token cap was reached by the previous test: make room for this service.
      const admin = adminBusClient(stack.bus, adminToken);
      for (const token of (await admin.listServiceTokens()).serviceTokens) await admin.denyToken(token.id);
      await provisionService(grpc, admin, service, { GUARDED_KEY: "guarded-value" });

      const guesses = await Promise.all(
        Array.from({ length: 100 }, () => grpc.getSecret("GUARDED_KEY", newServiceToken())),
      );
      const reached = guesses.filter((o) => o.code === "UNAUTHENTICATED");
      const throttled = guesses.filter((o) => o.code === "RESOURCE_EXHAUSTED");
      expect(reached.length).toBeLessThanOrEqual(limits.authFailures);
      expect(reached.length + throttled.length).toBe(100);
      expect(
        throttled.every((o) => o.reason === "RATE_LIMITED" && /try again in \d+ s/.test(o.details)),
      ).toBe(true);

      // The approved token from the same address is not touched by the flood.
      const right = await grpc.getSecret("GUARDED_KEY", service.token);
      expect(right).toMatchObject({ ok: true, code: "OK" });
      expect(right.response?.value).toBe("guarded-value");

      // Only the calls within the budget reached the vault (each audited); the rest are one summary.
      const events = (await readAuditStream(stack.natsUrl, stack.namespace)).map((e) => e.event);
      const audited = new Set(events.map((e) => e.requestId));
      expect(reached.every((o) => audited.has(o.requestId))).toBe(true);
      expect(throttled.some((o) => audited.has(o.requestId))).toBe(false);
      await expect
        .poll(
          async () =>
            (await readAuditStream(stack.natsUrl, stack.namespace))
              .map((e) => e.event)
              .filter(
                (e) =>
                  e.event === AuditEventName.callsThrottled &&
                  e.subject.startsWith("GetSecret refused on the address budget"),
              )
              .reduce((sum, e) => sum + e.refusedCalls, 0),
          { timeout: 10_000, interval: 250 },
        )
        .toBe(throttled.length);
    } finally {
      grpc.close();
      await gateway.process.stop();
    }
  });

  it("throttles a pending token after its own budget: each refusal within it audited, the rest counted in one summary event", async () => {
    const gateway = await stack.startGateway({
      ...gatewayLimits(),
      RATE_LIMIT_REGISTER_PER_MINUTE: "100",
      RATE_LIMIT_TOKEN_REFUSALS_PER_MINUTE: String(limits.tokenRefusals),
    });
    const grpc = secretsClient(gateway.address, gateway.caFile);
    const token = newServiceToken();
    try {
      const admin = adminBusClient(stack.bus, adminToken);
      for (const pending of (await admin.listServiceTokens()).serviceTokens)
        if (pending.serviceName !== "guarded") await admin.denyToken(pending.id);
      expect((await grpc.registerToken("patient", token)).ok).toBe(true);
      const calls = [];
      for (let i = 0; i < 80; i++) calls.push(await grpc.getSecret("ANY_KEY", token));
      const refusedByVault = calls.filter((o) => o.reason === "TOKEN_PENDING_APPROVAL");
      const throttled = calls.filter((o) => o.code === "RESOURCE_EXHAUSTED");
      expect(refusedByVault).toHaveLength(limits.tokenRefusals);
      expect(throttled).toHaveLength(80 - limits.tokenRefusals);
      expect(throttled[0]?.details).toMatch(/This token was refused too often; try again in \d+ s/);

      const summaries = async () =>
        (await readAuditStream(stack.natsUrl, stack.namespace))
          .map((e) => e.event)
          .filter((e) => e.event === AuditEventName.callsThrottled && e.serviceName === "patient");
      await expect.poll(async () => (await summaries()).length, { timeout: 10_000, interval: 250 }).toBe(1);
      const [summary] = await summaries();
      expect(summary).toMatchObject({ refusedCalls: 80 - limits.tokenRefusals, reason: "RATE_LIMITED" });
      expect(summary?.subject).toMatch(/GetSecret refused on the token budget/);
      const events = (await readAuditStream(stack.natsUrl, stack.namespace)).map((e) => e.event);
      const audited = new Set(events.map((e) => e.requestId));
      expect(refusedByVault.every((o) => audited.has(o.requestId))).toBe(true);
      expect(JSON.stringify(events)).not.toContain(token);
    } finally {
      grpc.close();
      await gateway.process.stop();
    }
  });
});

describe("brute force over HTTP", () => {
  let http: ReturnType<typeof adminHttpClient>;
  const from = (address: string) => ({ "x-forwarded-for": address });

  beforeAll(async () => {
    const adminApi = await stack.startAdminApi({
      ADMIN_LOGIN_RATE_PER_MINUTE: String(limits.logins),
      ADMIN_AUTH_FAILURE_RATE_PER_MINUTE: String(limits.adminFailures),
      ADMIN_TRUST_PROXY: "true", // so that one test can be several client addresses
      ADMIN_AUTH_CACHE_MS: "0",
    });
    http = adminHttpClient(adminApi.url);
  });

  it("limits guesses at sign-in per client address (an unseen right token included), and sign-ins per token", async () => {
    const headers = { ...from("203.0.113.10"), origin: http.origin };
    const signIn = (token: string, h = headers) =>
      http.send("POST", "/session", { body: { token }, headers: h });
    const wrong = [];
    for (let i = 0; i < limits.adminFailures; i++) wrong.push(await signIn(`${adminToken}x${i}`));
    expect(wrong.map((r) => r.status)).toEqual(Array(limits.adminFailures).fill(401));
    const right = await signIn(adminToken);
    expect(right.status).toBe(429);
    expect(right.json.error.code).toBe("RATE_LIMITED");
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(right.headers.getSetCookie()).toEqual([]);
    // Another address signs in; from then on the token is known valid, and the guesser's address no
    // longer refuses it: only its own sign-in budget counts.
    expect((await signIn(adminToken, { ...from("203.0.113.11"), origin: http.origin })).status).toBe(200);
    const again = [];
    for (let i = 0; i < limits.logins; i++) again.push((await signIn(adminToken)).status);
    expect(again).toEqual([...Array(limits.logins - 1).fill(200), 429]);
  });

  it("refuses credentials not known valid from an address after too many failed ones, until its budget refills; known ones pass", async () => {
    const attacker = from("203.0.113.20");
    const guesses = [];
    for (let i = 0; i < limits.adminFailures; i++) {
      guesses.push(
        await http.send("GET", "/secrets", { credential: { token: `ssadm_guess${i}` }, headers: attacker }),
      );
    }
    expect(guesses.map((r) => r.status)).toEqual(Array(limits.adminFailures).fill(401));
    const next = await http.send("GET", "/secrets", {
      credential: { token: "ssadm_next_guess" },
      headers: attacker,
    });
    expect(next.status).toBe(429);
    expect(Number(next.headers.get("retry-after"))).toBeGreaterThan(0);
    // The admin token authenticated before (previous test): the attacker's spent budget does not touch it.
    const known = await http.send("GET", "/secrets", {
      credential: { token: adminToken },
      headers: attacker,
    });
    expect(known.status).toBe(200);
    const bystander = await http.send("GET", "/secrets", {
      credential: { token: "ssadm_bystander" },
      headers: from("203.0.113.21"),
    });
    expect(bystander.status).toBe(401);
    // A refill takes 60 s / ADMIN_AUTH_FAILURE_RATE_PER_MINUTE: Retry-After says so.
    expect(Number(next.headers.get("retry-after"))).toBeLessThanOrEqual(Math.ceil(60 / limits.adminFailures));
  });
});

describe("constant-time token comparison", () => {
  it("authenticates service and admin tokens through that comparison only, never `===` on a credential", () => {
    // services/vault/src/service-tokens/token-hash.test.ts tests the comparison itself.
    const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");
    expect(read("services/vault/src/service-tokens/token-hash.ts")).toMatch(
      /timingSafeEqual\(expected, actual\)/,
    );
    expect(read("services/vault/src/service-tokens/token-authenticator.ts")).toMatch(
      /hashesMatch\(row\.tokenHash, hash\)/,
    );
    expect(read("services/vault/src/admin-auth/admin-auth-service.ts")).toMatch(
      /hashesMatch\(row\.tokenHash, tokenHash\)/,
    );
    // Nowhere that handles credentials is one compared with `===`/`!==` (empty-string checks aside).
    expect(credentialComparisons("if (row.tokenHash === presented) return;")).toHaveLength(1); // it can fail
    expect(credentialComparisons('if (token === "") throw missing();')).toEqual([]);
    const offenders: string[] = [];
    for (const root of [
      "services/vault/src",
      "services/admin-api/src",
      "services/gateway-grpc/src",
      "packages/sdk/src",
    ]) {
      for (const file of sourceFiles(join(repoRoot, root)).filter((f) => !f.endsWith(".test.ts"))) {
        for (const found of credentialComparisons(readFileSync(file, "utf8")))
          offenders.push(`${file.slice(repoRoot.length + 1)}:${found}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

/** `line: comparison` for each `===`/`!==` between a credential-named value and anything but a literal. */
function credentialComparisons(code: string): string[] {
  const credential = /\b\w*(token|tokenHash|sessionId|sessionHash|password|secret)\b/i;
  const comparison = /([\w.[\]]+)\s*(!==|===|==|!=)\s*([\w.[\]"'`]+)/g;
  const literal = /^(""|''|``|undefined|null|\d+|"[^"]*"|'[^']*')$/;
  const found: string[] = [];
  code.split("\n").forEach((line, index) => {
    for (const [whole, left = "", , right = ""] of line.matchAll(comparison)) {
      if (literal.test(left) || literal.test(right)) continue;
      if ([left, right].some((side) => credential.test(side.split(".").at(-1) ?? ""))) {
        found.push(`${index + 1}: ${whole}`);
      }
    }
  });
  return found;
}
