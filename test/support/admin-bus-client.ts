/**
 * A test's admin: typed admin operations over the bus with a fixed acting admin, and values sealed to
 * the vault's key as the admin API seals them.
 */
import { adminOperations, type Bus, request } from "@secrets/bus";
import { AccessStatus, type AdminContext, ServiceTokenStatus } from "@secrets/proto/admin";
import { sealValue } from "@secrets/sealing";

export function adminBusClient(bus: Bus, actor = "test-admin", timeoutMs = 5_000) {
  const admin: AdminContext = { actor, requestId: "test", ipAddress: "127.0.0.1", userAgent: "vitest" };
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
