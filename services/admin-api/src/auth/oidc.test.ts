import type { Server } from "bun";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

let idp: Server<undefined>;
let issuer: string;
const audience = "secrets-admin";
const keys = await generateKeyPair("ES256");
const otherKeys = await generateKeyPair("ES256");

beforeAll(async () => {
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  idp = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/openid-configuration") {
        return Response.json({ issuer, jwks_uri: `${issuer}/jwks` });
      }
      if (path === "/jwks") return Response.json({ keys: [jwk] });
      if (path === "/moved") return Response.redirect(`${issuer}/jwks`, 307);
      if (path === "/huge") return Response.json({ keys: [jwk], padding: "x".repeat(300 * 1024) });
      return new Response("not found", { status: 404 });
    },
  });
  issuer = `http://127.0.0.1:${idp.port}`;
});

afterAll(() => idp?.stop(true));

function jwt(
  claims: JWTPayload,
  options: { key?: CryptoKey; iss?: string; aud?: string; exp?: string | number } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setSubject("user-42")
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "5m")
    .sign(options.key ?? keys.privateKey);
}

const harness = (jwksUrl?: string) =>
  createHarness({ config: { oidcIssuer: issuer, oidcAudience: audience, oidcJwksUrl: jwksUrl } });

describe("OIDC admins", () => {
  it("accepts a JWT with the admin scope (discovered JWKS); the actor is oidc:<sub>", async () => {
    const h = harness();
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "openid admin" }) });
    expect(res.status).toBe(200);
    expect(h.vault.actorOf(h.vault.callsOf("listSecrets")[0]?.admin)).toBe("oidc:user-42");
    expect(h.vault.callsOf("authenticate")).toHaveLength(0);
    const lines = await h.requestLogLines();
    expect(lines[0]).toMatchObject({ actor: "oidc:user-42", status: 200 });
  });

  it("accepts the scope as an `scp` array, with an explicit JWKS URL", async () => {
    const h = harness(`${issuer}/jwks`);
    const token = await jwt({ scp: ["read", "admin"] }, { exp: Math.floor(Date.now() / 1000) + 600 });
    const me = await h.call("GET", "/session", { token });
    expect(me.status).toBe(200);
    expect(me.json.admin.name).toBe("oidc:user-42");
    expect(Date.parse(me.json.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("answers 403 for a valid JWT without the admin scope", async () => {
    const h = harness();
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "openid profile" }) });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toContain('"admin" scope');
  });

  it.each([
    ["the wrong audience", { aud: "another-api" }],
    ["the wrong issuer", { iss: "https://elsewhere.example" }],
    ["an expired token", { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ["another key's signature", { key: otherKeys.privateKey }],
  ])("answers 401 for %s", async (_, options) => {
    const h = harness();
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "admin" }, options) });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHENTICATED");
    expect(h.vault.callsOf("listSecrets")).toHaveLength(0);
  });

  it("answers 503 while the identity provider cannot be reached", async () => {
    const h = createHarness({
      config: {
        oidcIssuer: "http://127.0.0.1:9",
        oidcAudience: audience,
        oidcJwksUrl: "http://127.0.0.1:9/jwks",
      },
    });
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "admin" }) });
    expect(res.status).toBe(503);
  });

  it("refuses a JWT signed with an algorithm not in ADMIN_OIDC_ALGORITHMS", async () => {
    const h = createHarness({
      config: { oidcIssuer: issuer, oidcAudience: audience, oidcAlgorithms: "RS256,EdDSA" },
    });
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "admin" }) });
    expect(res.status).toBe(401);
    expect(h.vault.callsOf("listSecrets")).toHaveLength(0);
  });

  it.each([
    ["a JWKS URL that redirects", "/moved"],
    ["a JWKS larger than the cap", "/huge"],
  ])("does not trust %s (503, nothing verified)", async (_, path) => {
    const h = harness(`${issuer}${path}`);
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "admin" }) });
    expect(res.status).toBe(503);
    expect(h.vault.callsOf("listSecrets")).toHaveLength(0);
  });

  it("treats a JWT as an opaque admin token when SSO is not configured", async () => {
    const h = createHarness();
    const res = await h.call("GET", "/secrets", { token: await jwt({ scope: "admin" }) });
    expect(res.status).toBe(401);
    expect(h.vault.callsOf("authenticate")).toHaveLength(1);
  });
});
