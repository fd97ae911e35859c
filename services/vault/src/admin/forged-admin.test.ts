/**
 * Admin operations published straight onto a real nats-server, as a client holding the admin API's bus
 * credentials could publish them: the vault takes no name from the caller. The requests are written
 * byte by byte with the acting admin's name in AdminContext's field 1, where the admin API used to put
 * it, so that the same bytes show what a vault that trusted the name would do.
 */
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { adminOperations, type Bus } from "@secrets/bus";
import { adminTokenHash } from "@secrets/test/support/admin-bus-client";
import { readAuditStream } from "@secrets/test/support/audit-stream";
import { refusal } from "@secrets/test/support/bus-refusal";
import { newAdminToken, testAdmin } from "@secrets/test/support/tokens";
import type { Server } from "bun";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsUrl, startVaultCluster, type VaultCluster } from "../../test/harness.ts";
import { createAdminJwtVerifier } from "./admin-jwt.ts";

const forgedName = "forged-actor-nobody-authenticated";

type Credential = { tokenHash: string } | { sessionHash: string } | { oidcToken: string };

/** PutSecretRequest { admin: { actor (field 1), request_id, credential? }, name }. */
function putSecretBytes(name: string, credential?: Credential): Uint8Array {
  const admin = new BinaryWriter().uint32(10).string(forgedName).uint32(18).string("forged-request");
  if (credential) {
    const proof = new BinaryWriter();
    if ("tokenHash" in credential) proof.uint32(10).string(credential.tokenHash);
    if ("sessionHash" in credential) proof.uint32(18).string(credential.sessionHash);
    if ("oidcToken" in credential) proof.uint32(26).string(credential.oidcToken);
    admin.uint32(42).bytes(proof.finish());
  }
  return new BinaryWriter().uint32(10).bytes(admin.finish()).uint32(18).string(name).finish();
}

async function putSecret(bus: Bus, name: string, credential?: Credential) {
  const reply = await bus.request(adminOperations.putSecret.subject, putSecretBytes(name, credential), {
    timeoutMs: 5_000,
  });
  return adminOperations.putSecret.reply.decode(reply);
}

let cluster: VaultCluster;

beforeAll(async () => {
  cluster = await startVaultCluster({ name: "forged" });
  await cluster.startReplica();
});

afterAll(async () => {
  await cluster?.dispose();
});

async function storedNames(): Promise<string[]> {
  return (await cluster.admin.listSecrets()).secrets.map((s) => s.name);
}

describe("an admin operation with a forged admin name", () => {
  const refusedCases: [string, Credential | undefined][] = [
    ["no credential", undefined],
    ["an unknown admin token", { tokenHash: adminTokenHash(newAdminToken()) }],
    ["a malformed token hash", { tokenHash: "not-a-hash" }],
    ["an unknown session", { sessionHash: adminTokenHash("no-such-session") }],
    ["a JWT while the vault has no OIDC settings", { oidcToken: "eyJhbGciOiJub25lIn0.e30." }],
  ];

  it.each(refusedCases)("is refused with %s, changes nothing, and is audited", async (label, credential) => {
    const name = `FORGED_${label.replace(/\W+/g, "_").toUpperCase()}`;
    expect(await refusal(putSecret(cluster.client, name, credential))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(await storedNames()).not.toContain(name);
    const events = await readAuditStream(natsUrl, cluster.namespace);
    const refused = events.filter(
      (e) => e.event.event === "secret.put" && e.event.requestId === "forged-request",
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const { event } of refused) {
      expect(event).toMatchObject({ success: false, reason: "UNAUTHENTICATED", actor: "" });
    }
  });

  it("with a valid credential, is attributed to the admin the credential belongs to", async () => {
    const { secret, created } = await putSecret(cluster.client, "ATTRIBUTED", {
      tokenHash: adminTokenHash(testAdmin.token),
    });
    expect(created).toBe(true);
    expect(secret?.createdBy).toBe(testAdmin.name);
    const events = await readAuditStream(natsUrl, cluster.namespace);
    const stored = events.find((e) => e.event.event === "secret.put" && e.event.secretName === "ATTRIBUTED");
    expect(stored?.event).toMatchObject({ success: true, actor: testAdmin.name });
    expect(JSON.stringify(events.map((e) => e.event))).not.toContain(forgedName);
  });
});

describe("an admin operation carrying an OIDC JWT", () => {
  const audience = "secrets-admin";
  let idp: Server<undefined>;
  let issuer = "";
  let sso: VaultCluster;
  let keys: CryptoKeyPair;

  beforeAll(async () => {
    keys = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    idp = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) =>
        new URL(request.url).pathname === "/jwks"
          ? Response.json({ keys: [jwk] })
          : new Response("not found", { status: 404 }),
    });
    issuer = `http://127.0.0.1:${idp.port}`;
    sso = await startVaultCluster({ name: "forged-sso" });
    const settings = {
      issuer,
      audience,
      jwksUrl: `${issuer}/jwks`,
      adminScope: "admin",
      algorithms: ["ES256"],
    };
    await sso.startReplica({ options: { adminJwt: createAdminJwtVerifier(settings) } });
  });

  afterAll(async () => {
    await sso?.dispose();
    idp?.stop(true);
  });

  const jwt = (scope: string, key: CryptoKey = keys.privateKey) =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject("user-42")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);

  it("is attributed to oidc:<sub> when the vault verifies the JWT itself", async () => {
    const { secret } = await putSecret(sso.client, "SSO_ATTRIBUTED", {
      oidcToken: await jwt("openid admin"),
    });
    expect(secret?.createdBy).toBe("oidc:user-42");
  });

  it("is refused for a JWT signed by another key, or without the admin scope", async () => {
    const stranger = await generateKeyPair("ES256");
    const forged = await jwt("openid admin", stranger.privateKey);
    expect(await refusal(putSecret(sso.client, "SSO_FORGED", { oidcToken: forged }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const unscoped = await jwt("openid profile");
    expect(await refusal(putSecret(sso.client, "SSO_UNSCOPED", { oidcToken: unscoped }))).toMatchObject({
      code: "PERMISSION_DENIED",
    });
    const names = (await sso.admin.listSecrets()).secrets.map((s) => s.name);
    expect(names).not.toContain("SSO_FORGED");
    expect(names).not.toContain("SSO_UNSCOPED");
  });
});
