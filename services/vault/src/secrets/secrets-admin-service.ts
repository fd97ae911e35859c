import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SealedValue } from "@secrets/proto/admin";
import { openSealedValue, type SealingKeyPair } from "@secrets/sealing";
import { checkDescription, checkSecretName, checkValue } from "@secrets/validation";
import { type Admin, pageLimit } from "../admin/admin-context.ts";
import { secretRecord, withoutValue } from "../admin/records.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { Dals } from "../db/dals.ts";
import { PgErrorCode, pgErrorCode } from "../db/errors.ts";
import type { Keyring } from "../keyring/index.ts";
import type { SecretChanges } from "./secrets-dal.ts";

export interface SecretsAdminDeps {
  dals: Pick<Dals, "secrets">;
  audit: AdminAudit;
  keyring: Pick<Keyring, "encrypt" | "keyIdOf">;
  sealingKey: SealingKeyPair;
  logger: Logger;
  newId?: () => string;
}

export interface PutSecretInput {
  name: string;
  description?: string | undefined;
  value?: SealedValue | undefined;
}

/** Admin operations on secrets: list (never a value), create or update by name, delete. */
export function createSecretsAdminService(deps: SecretsAdminDeps) {
  const newId = deps.newId ?? (() => Bun.randomUUIDv7());
  const encoder = new TextEncoder();

  function unseal(sealed: SealedValue, name: string): string {
    if (sealed.keyId !== deps.sealingKey.keyId) {
      throw new BusError(
        ErrorCode.INVALID_ARGUMENT,
        "The value was sealed to a key this vault does not hold",
        {
          reason: Reason.SEALING_KEY_UNKNOWN,
        },
      );
    }
    try {
      return openSealedValue(deps.sealingKey, sealed, name);
    } catch {
      throw invalidArgument([{ field: "value", description: "could not be unsealed for this secret" }]);
    }
  }

  function encrypt(value: string, secretId: string) {
    const valueEncrypted = deps.keyring.encrypt(encoder.encode(value), secretId);
    return { valueEncrypted, keyId: deps.keyring.keyIdOf(valueEncrypted) };
  }

  return {
    list(admin: Admin, request: { query: string; missingOnly: boolean; limit: number; cursor: string }) {
      return deps.audit.read({ ...admin, event: AuditEventName.secretList }, async () => {
        const page = await deps.dals.secrets.list({
          query: request.query || undefined,
          missingOnly: request.missingOnly,
          limit: pageLimit(request.limit),
          cursor: request.cursor || undefined,
        });
        return { secrets: page.items.map(secretRecord), nextCursor: page.nextCursor ?? "" };
      });
    },

    put(admin: Admin, input: PutSecretInput) {
      const facts = { ...admin, event: AuditEventName.secretPut, secretName: input.name };
      return deps.audit.change(facts, async (tx) => {
        const violations = [
          ...checkSecretName(input.name, "name"),
          ...(input.description === undefined ? [] : checkDescription(input.description)),
        ];
        if (violations.length > 0) throw invalidArgument(violations);
        const value = input.value === undefined ? undefined : unseal(input.value, input.name);
        if (value !== undefined && checkValue(value).length > 0) throw invalidArgument(checkValue(value));
        const existing = await tx.secrets.findByName(input.name);
        const id = existing?.id ?? newId();
        const encrypted = value === undefined ? undefined : encrypt(value, id);
        const description = input.description === undefined ? {} : { description: input.description };
        const changes: SecretChanges = encrypted ? { ...description, ...encrypted } : description;
        const row = existing
          ? await tx.secrets.update(id, changes)
          : await tx.secrets
              .insert({
                id,
                name: input.name,
                createdBy: admin.actor,
                ...description,
                ...(encrypted ?? { valueEncrypted: null, keyId: null }),
              })
              .catch((error: unknown) => {
                if (pgErrorCode(error) !== PgErrorCode.uniqueViolation) throw error;
                throw new BusError(
                  ErrorCode.CONFLICT,
                  `Secret ${input.name} was created concurrently; try again`,
                );
              });
        if (!row)
          throw new BusError(ErrorCode.CONFLICT, `Secret ${input.name} was deleted concurrently; try again`);
        const requestedBy = (await tx.secrets.requestersOf([id])).get(id) ?? [];
        return {
          result: { secret: secretRecord(withoutValue(row, requestedBy)), created: !existing },
          facts: { secretId: id },
        };
      });
    },

    remove(admin: Admin, id: string) {
      return deps.audit.change({ ...admin, event: AuditEventName.secretDelete, targetId: id }, async (tx) => {
        const secret = await tx.secrets.findById(id);
        if (!secret || !(await tx.secrets.remove(id))) {
          throw new BusError(ErrorCode.NOT_FOUND, `No secret has the id "${id}"`);
        }
        return { result: {}, facts: { secretId: id, secretName: secret.name } };
      });
    },
  };
}
