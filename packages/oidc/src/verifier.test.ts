import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audience, startIdentityProvider, type TestIdentityProvider } from "../test/identity-provider.ts";
import { OidcRefusal } from "./refusal.ts";
import { createOidcVerifier, type OidcSettings, scopesOf } from "./verifier.ts";

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await startIdentityProvider();
});
afterAll(() => idp?.stop());

const verifier = (overrides: Partial<OidcSettings> = {}) =>
  createOidcVerifier({
    issuer: idp.issuer,
    audience,
    adminScope: "admin",
    algorithms: ["RS256", "ES256", "EdDSA"],
    ...overrides,
  });

/** The refusal `verify` throws, checked to name no part of the token. */
async function refusalOf(promise: Promise<unknown>, jwt?: string): Promise<OidcRefusal> {
  const error = await promise.then(
    () => expect.unreachable("verified"),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(OidcRefusal);
  const refusal = error as OidcRefusal;
  expect(refusal.name).toBe("OidcRefusal");
  if (jwt) for (const part of jwt.split(".")) expect(refusal.message).not.toContain(part);
  expect(refusal.message).not.toContain("user-42");
  return refusal;
}

describe("createOidcVerifier", () => {
  it("verifies a JWT with the admin scope (JWKS discovered): issuer, subject, actor oidc:<sub>, claims", async () => {
    const jwt = await idp.sign({ scope: "openid admin", email: "a@example.com" });
    const verified = await verifier().verify(jwt);
    expect(verified).toMatchObject({ issuer: idp.issuer, subject: "user-42", actor: "oidc:user-42" });
    expect(verified.payload).toMatchObject({ email: "a@example.com", aud: audience, sub: "user-42" });
    expect(verified.payload.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it("reads the scope from an `scp` array or string, with an explicit JWKS URL", async () => {
    const v = verifier({ jwksUrl: `${idp.issuer}/jwks` });
    await expect(v.verify(await idp.sign({ scp: ["read", "admin"] }))).resolves.toMatchObject({
      actor: "oidc:user-42",
    });
    await expect(v.verify(await idp.sign({ scp: "read admin" }))).resolves.toMatchObject({
      actor: "oidc:user-42",
    });
  });

  it("refuses a valid JWT without the admin scope as missing-scope, naming the scope", async () => {
    const jwt = await idp.sign({ scope: "openid profile" });
    const refusal = await refusalOf(verifier({ adminScope: "secrets:admin" }).verify(jwt), jwt);
    expect(refusal.kind).toBe("missing-scope");
    expect(refusal.message).toBe('The JWT does not carry the "secrets:admin" scope');
  });

  type SignOptions = Parameters<TestIdentityProvider["sign"]>[1];
  it.each<[string, () => SignOptions]>([
    ["the wrong audience", () => ({ aud: "another-api" })],
    ["the wrong issuer", () => ({ iss: "https://elsewhere.example" })],
    ["an expired token", () => ({ exp: Math.floor(Date.now() / 1000) - 3600 })],
    ["another key's signature", () => ({ key: idp.otherKey })],
  ])("refuses %s as invalid", async (_, options) => {
    const jwt = await idp.sign({ scope: "admin" }, options());
    const refusal = await refusalOf(verifier().verify(jwt), jwt);
    expect(refusal.kind).toBe("invalid");
    expect(refusal.message).toBe("The admin JWT is not valid for this API");
  });

  it("refuses a JWT signed with an algorithm not allowed, and a token that is not a JWT, as invalid", async () => {
    const jwt = await idp.sign({ scope: "admin" });
    expect((await refusalOf(verifier({ algorithms: ["RS256", "EdDSA"] }).verify(jwt), jwt)).kind).toBe(
      "invalid",
    );
    expect((await refusalOf(verifier().verify("not-a-jwt"))).kind).toBe("invalid");
  });

  it("refuses a subject that would make the actor longer than 128 characters", async () => {
    const fits = "s".repeat(128 - "oidc:".length);
    await expect(verifier().verify(await idp.sign({ scope: "admin" }, { sub: fits }))).resolves.toMatchObject(
      {
        actor: `oidc:${fits}`,
      },
    );
    const jwt = await idp.sign({ scope: "admin" }, { sub: `${fits}s` });
    const refusal = await refusalOf(verifier().verify(jwt), jwt);
    expect(refusal).toMatchObject({ kind: "invalid", message: "The JWT's subject is too long" });
  });

  it.each<[string, () => Pick<OidcSettings, "issuer" | "jwksUrl">, RegExp]>([
    [
      "an unreachable identity provider",
      () => ({ issuer: "http://127.0.0.1:9", jwksUrl: "http://127.0.0.1:9/jwks" }),
      /./,
    ],
    [
      "a JWKS URL that redirects",
      () => ({ issuer: idp.issuer, jwksUrl: `${idp.issuer}/moved` }),
      /redirect/i,
    ],
    [
      "a JWKS larger than 256 KiB",
      () => ({ issuer: idp.issuer, jwksUrl: `${idp.issuer}/huge` }),
      /262144 bytes/,
    ],
    [
      "a discovery document naming another issuer",
      () => ({ issuer: `${idp.issuer}/elsewhere` }),
      /another issuer/,
    ],
    [
      "a discovered jwks_uri over plain http off loopback",
      () => ({ issuer: `${idp.issuer}/plain` }),
      /not https/,
    ],
  ])("refuses while it cannot trust %s as unavailable, the cause kept", async (_, where, cause) => {
    const settings = where();
    const jwt = await idp.sign({ scope: "admin" }, { iss: settings.issuer });
    const refusal = await refusalOf(verifier(settings).verify(jwt), jwt);
    expect(refusal).toMatchObject({
      kind: "unavailable",
      message: "The identity provider cannot be reached",
    });
    expect(refusal.cause).toBeInstanceOf(Error);
    expect((refusal.cause as Error).message).toMatch(cause);
  });

  it("asks the identity provider again after a failed discovery or key fetch", async () => {
    const v = verifier({ jwksUrl: `${idp.issuer}/jwks` });
    const jwt = await idp.sign({ scope: "admin" });
    idp.jwksFailure = 500;
    try {
      expect((await refusalOf(v.verify(jwt), jwt)).kind).toBe("unavailable");
    } finally {
      idp.jwksFailure = undefined;
    }
    await expect(v.verify(jwt)).resolves.toMatchObject({ actor: "oidc:user-42" });
  });
});

describe("scopesOf", () => {
  it("reads a space-separated `scope`, an `scp` array (strings only) or an `scp` string", () => {
    expect(scopesOf({ scope: "openid admin" })).toEqual(["openid", "admin"]);
    expect(scopesOf({ scp: ["admin", 7, "read"] })).toEqual(["admin", "read"]);
    expect(scopesOf({ scp: "a b" })).toEqual(["a", "b"]);
    expect(scopesOf({ scope: 3, scp: { admin: true } })).toEqual([]);
  });
});
