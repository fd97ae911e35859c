/**
 * A minimal identity provider on loopback for the verifier's tests: discovery, a JWKS with one ES256
 * key, and the answers a verifier must not trust (a redirect, an oversized JWKS, a discovery document
 * naming another issuer).
 */
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

export interface TestIdentityProvider {
  issuer: string;
  /** Signs a JWT as this issuer for `audience`, subject `user-42`, valid 5 minutes unless told otherwise. */
  sign(
    claims: JWTPayload,
    options?: { key?: CryptoKey; iss?: string; aud?: string; sub?: string; exp?: string | number },
  ): Promise<string>;
  /** A key this provider does not publish. */
  otherKey: CryptoKey;
  /** While set, `/jwks` answers with this status instead of the keys. */
  jwksFailure: number | undefined;
  /** Requests received, by path. */
  hits: string[];
  stop(): void;
}

export const audience = "secrets-admin";

export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const keys = await generateKeyPair("ES256");
  const other = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const path = new URL(request.url).pathname;
      idp.hits.push(path);
      switch (path) {
        case "/.well-known/openid-configuration":
          return Response.json({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks` });
        case "/jwks":
          return idp.jwksFailure === undefined
            ? Response.json({ keys: [jwk] })
            : new Response("unavailable", { status: idp.jwksFailure });
        case "/moved":
          return Response.redirect(`${idp.issuer}/jwks`, 307);
        case "/huge":
          return Response.json({ keys: [jwk], padding: "x".repeat(300 * 1024) });
        case "/elsewhere/.well-known/openid-configuration":
          return Response.json({ issuer: "https://elsewhere.example", jwks_uri: `${idp.issuer}/jwks` });
        case "/plain/.well-known/openid-configuration":
          return Response.json({ issuer: `${idp.issuer}/plain`, jwks_uri: "http://keys.example/jwks" });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  const idp: TestIdentityProvider = {
    issuer: `http://127.0.0.1:${server.port}`,
    otherKey: other.privateKey,
    jwksFailure: undefined,
    hits: [],
    sign(claims, options = {}) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer(options.iss ?? idp.issuer)
        .setAudience(options.aud ?? audience)
        .setSubject(options.sub ?? "user-42")
        .setIssuedAt()
        .setExpirationTime(options.exp ?? "5m")
        .sign(options.key ?? keys.privateKey);
    },
    stop: () => server.stop(true),
  };
  return idp;
}
