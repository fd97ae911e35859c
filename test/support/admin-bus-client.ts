/**
 * A test's admin: typed admin operations over the bus carrying an admin token's hash (the vault resolves
 * the admin from it), and values sealed to the vault's key as the admin API seals them. By default the
 * admin is `testAdmin`, whom every test vault starts with.
 */
import { createHash } from "node:crypto";
import { adminOperations, type Bus, request } from "@secrets/bus";
import { AccessStatus, type AdminContext, ServiceTokenStatus } from "@secrets/proto/admin";
import { sealValue } from "@secrets/sealing";
import { testAdmin } from "./tokens.ts";

/** The hex SHA-256 of an admin token: how the admin API forwards it and the vault stores it. */
export const adminTokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/** The AdminContext of a test's admin operation: the admin token's hash as its credential. */
export function testAdminContext(adminToken: string = testAdmin.token): AdminContext {
  return {
    requestId: "test",
    ipAddress: "127.0.0.1",
    userAgent: "vitest",
    credential: { tokenHash: adminTokenHash(adminToken) },
  };
}

export function adminBusClient(bus: Bus, adminToken: string = testAdmin.token, timeoutMs = 5_000) {
  const admin = testAdminContext(adminToken);
  const options = { timeoutMs };

  async function seal(name: string, value: string) {
    const key = await request(bus, adminOperations.sealingKey, {}, options);
    const sealed = sealValue({ keyId: key.keyId, publicKey: key.publicKey }, value, name);
    return {
      keyId: sealed.keyId,
      ephemeralPublicKey: Buffer.from(sealed.ephemeralPublicKey),
      iv: Buffer.from(sealed.iv),
      ciphertext: Buffer.from(sealed.ciphertext),
    };
  }

  return {
    admin,
    listSecrets: (query = "", missingOnly = false) =>
      request(bus, adminOperations.listSecrets, { admin, query, missingOnly, limit: 0, cursor: "" }, options),
    putSecret: async (name: string, fields: { description?: string; value?: string } = {}) =>
      request(
        bus,
        adminOperations.putSecret,
        {
          admin,
          name,
          description: fields.description,
          value: fields.value === undefined ? undefined : await seal(name, fields.value),
        },
        options,
      ),
    deleteSecret: (id: string) => request(bus, adminOperations.deleteSecret, { admin, id }, options),
    listAccessRequests: (status = AccessStatus.UNSPECIFIED) =>
      request(bus, adminOperations.listAccessRequests, { admin, status, limit: 0, cursor: "" }, options),
    approveAccess: (id: string) => request(bus, adminOperations.approveAccessRequest, { admin, id }, options),
    grantAccess: (secretName: string, serviceName: string) =>
      request(bus, adminOperations.grantAccess, { admin, secretName, serviceName }, options),
    denyAccess: (id: string) => request(bus, adminOperations.denyAccessRequest, { admin, id }, options),
    listServiceTokens: (status = ServiceTokenStatus.UNSPECIFIED) =>
      request(bus, adminOperations.listServiceTokens, { admin, status, limit: 0, cursor: "" }, options),
    approveToken: (id: string) => request(bus, adminOperations.approveServiceToken, { admin, id }, options),
    denyToken: (id: string) => request(bus, adminOperations.denyServiceToken, { admin, id }, options),
    revokeToken: (id: string) => request(bus, adminOperations.revokeServiceToken, { admin, id }, options),
  };
}

export type AdminBusClient = ReturnType<typeof adminBusClient>;
