/**
 * Secrets over the bus: list (never a value), create or update by name (the value sealed to the vault's
 * key first), delete. Values are checked here for a clear 422 and checked again by the vault.
 */
import { adminOperations } from "@secrets/bus";
import type { AdminContext, SecretRecord } from "@secrets/proto/admin";
import { checkDescription, checkSecretName, checkValue } from "@secrets/validation";
import { apiErrors } from "../http/api-error.ts";
import { iso, orNull, pageSize } from "../shared/paging.ts";
import type { Sealer } from "../vault/sealer.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type {
  ListSecretsQuery,
  PutSecretBody,
  RollbackBody,
  SecretList,
  SecretVersionList,
  SecretView,
} from "./model.ts";

export function secretView(record: SecretRecord): SecretView {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    hasValue: record.hasValue,
    isActive: record.isActive,
    isStub: record.isStub,
    createdAt: iso(record.createdAtMs),
    updatedAt: iso(record.updatedAtMs),
    createdBy: record.createdBy,
    requestedBy: record.requestedBy,
    version: record.version,
  };
}

function checkPut(input: PutSecretBody): void {
  const violations = [
    ...checkSecretName(input.name, "name"),
    ...(input.description === undefined ? [] : checkDescription(input.description, "description")),
    ...(input.value === undefined ? [] : checkValue(input.value, "value")),
  ];
  if (violations.length > 0) {
    throw apiErrors.invalid(violations.map((v) => ({ field: v.field, message: v.description })));
  }
}

export function createSecretsService(deps: { vault: VaultClient; sealer: Sealer }) {
  const { vault } = deps;
  return {
    async list(admin: AdminContext, query: ListSecretsQuery): Promise<SecretList> {
      const reply = await vault.call(adminOperations.listSecrets, {
        admin,
        query: query.q ?? "",
        missingOnly: query.missing ?? false,
        limit: pageSize(query.limit),
        cursor: query.cursor ?? "",
      });
      return { secrets: reply.secrets.map(secretView), nextCursor: orNull(reply.nextCursor) };
    },

    /** Creates or updates by name; `created` tells which. */
    async put(admin: AdminContext, input: PutSecretBody): Promise<{ secret: SecretView; created: boolean }> {
      checkPut(input);
      const send = (value: Parameters<Parameters<Sealer["withSealed"]>[2]>[0] | undefined) =>
        vault.call(adminOperations.putSecret, {
          admin,
          name: input.name,
          description: input.description,
          value,
          expectedVersion: input.expectedVersion,
        });
      const reply =
        input.value === undefined
          ? await send(undefined)
          : await deps.sealer.withSealed(input.value, input.name, send);
      if (!reply.secret) throw new Error("The vault's put-secret reply holds no secret");
      return { secret: secretView(reply.secret), created: reply.created };
    },

    async versions(admin: AdminContext, id: string): Promise<SecretVersionList> {
      const reply = await vault.call(adminOperations.listSecretVersions, { admin, id });
      return {
        versions: reply.versions.map((v) => ({
          version: v.version,
          createdAt: iso(v.createdAtMs),
          createdBy: v.createdBy,
          restoredFrom: v.restoredFrom === 0 ? null : v.restoredFrom,
          current: v.version === reply.currentVersion,
        })),
      };
    },

    async rollback(admin: AdminContext, id: string, input: RollbackBody): Promise<{ secret: SecretView }> {
      const reply = await vault.call(adminOperations.rollbackSecret, { admin, id, ...input });
      if (!reply.secret) throw new Error("The vault's rollback reply holds no secret");
      return { secret: secretView(reply.secret) };
    },

    async remove(admin: AdminContext, id: string): Promise<void> {
      await vault.call(adminOperations.deleteSecret, { admin, id });
    },
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
