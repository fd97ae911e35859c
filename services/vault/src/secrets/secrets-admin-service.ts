import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SealedValue } from "@secrets/proto/admin";
import type { SecretChanged } from "@secrets/proto/vault";
import { openSealedValue, type SealingKeyPair } from "@secrets/sealing";
import { checkDescription, checkSecretName, checkValue } from "@secrets/validation";
import { type Admin, pageLimit } from "../admin/admin-context.ts";
import { secretRecord, secretVersionRecord, withoutValue } from "../admin/records.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { InvalidateCache } from "../cache/cache-invalidation.ts";
import type { Dals } from "../db/dals.ts";
import { PgErrorCode, pgErrorCode } from "../db/errors.ts";
import type { Secret } from "../db/schema.ts";
import type { Keyring } from "../keyring/index.ts";

export interface SecretsAdminDeps {
  dals: Pick<Dals, "secrets" | "secretVersions">;
  audit: AdminAudit;
  keyring: Pick<Keyring, "encrypt" | "decrypt" | "keyIdOf" | "refresh">;
  sealingKey: SealingKeyPair;
  logger: Logger;
  /** Told after a value changes or a secret is deleted (committed); never given the value. */
  announce: (change: SecretChanged) => void;
  /** Invalidates every vault's cache for any committed change of a secret, before the admin hears of it. */
  invalidate: InvalidateCache;
  /** Versions kept per secret, the current one included. */
  versionsKept: number;
  newId?: () => string;
}

export interface PutSecretInput {
  name: string;
  description?: string | undefined;
  value?: SealedValue | undefined;
  /** Check-and-set: the version the admin last saw. */
  expectedVersion?: number | undefined;
}

function versionConflict(name: string, current: number, expected: number): BusError {
  return new BusError(
    ErrorCode.CONFLICT,
    `Secret ${name} is at version ${current}, not ${expected}: someone changed it; reload and try again`,
    { reason: Reason.VERSION_CONFLICT },
  );
}

const concurrentChange = (name: string) =>
  new BusError(ErrorCode.CONFLICT, `Secret ${name} was changed concurrently; reload and try again`, {
    reason: Reason.VERSION_CONFLICT,
  });

/** Admin operations on secrets: list (never a value), create or update by name, versions, delete. */
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

  function encrypt(value: string, secretId: string, version: number) {
    const valueEncrypted = deps.keyring.encrypt(encoder.encode(value), { secretId, version });
    return { valueEncrypted, keyId: deps.keyring.keyIdOf(valueEncrypted) };
  }

  /** Records a new current value as a version and forgets the ones beyond what is kept. */
  async function keepVersion(
    tx: Pick<Dals, "secretVersions">,
    row: Secret,
    createdBy: string,
    restoredFrom = 0,
  ): Promise<void> {
    if (!row.valueEncrypted || row.keyId === null) return;
    await tx.secretVersions.insert({
      secretId: row.id,
      version: row.version,
      valueEncrypted: row.valueEncrypted,
      keyId: row.keyId,
      createdBy,
      restoredFrom,
    });
    await tx.secretVersions.prune(row.id, row.version, deps.versionsKept);
  }

  async function record(tx: Pick<Dals, "secrets">, row: Secret) {
    const requestedBy = (await tx.secrets.requestersOf([row.id])).get(row.id) ?? [];
    return secretRecord(withoutValue(row, requestedBy));
  }

  const changed = (row: Secret) =>
    deps.announce({ secretId: row.id, secretName: row.name, version: row.version, deleted: false });

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

    async put(admin: Admin, input: PutSecretInput) {
      const facts = { ...admin, event: AuditEventName.secretPut, secretName: input.name };
      // Another vault may have rotated: write under the key file's current key, not a stale one.
      if (input.value !== undefined) await deps.keyring.refresh();
      const outcome = await deps.audit.change(facts, async (tx) => {
        const violations = [
          ...checkSecretName(input.name, "name"),
          ...(input.description === undefined ? [] : checkDescription(input.description)),
        ];
        if (violations.length > 0) throw invalidArgument(violations);
        const value = input.value === undefined ? undefined : unseal(input.value, input.name);
        if (value !== undefined && checkValue(value).length > 0) throw invalidArgument(checkValue(value));
        const existing = await tx.secrets.findByName(input.name);
        const current = existing?.version ?? 0;
        if (input.expectedVersion !== undefined && input.expectedVersion !== current) {
          throw versionConflict(input.name, current, input.expectedVersion);
        }
        const id = existing?.id ?? newId();
        const encrypted =
          value === undefined ? undefined : { ...encrypt(value, id, current + 1), version: current + 1 };
        const description = input.description === undefined ? {} : { description: input.description };
        const row = existing
          ? await tx.secrets.update(id, encrypted ? { ...description, ...encrypted } : description, current)
          : await tx.secrets
              .insert({
                id,
                name: input.name,
                createdBy: admin.actor,
                ...description,
                ...(encrypted ?? { valueEncrypted: null, keyId: null }),
              })
              .catch((error: unknown) => {
                if (pgErrorCode(error) === PgErrorCode.uniqueViolation) throw concurrentChange(input.name);
                throw error;
              });
        if (!row) throw concurrentChange(input.name);
        if (encrypted) await keepVersion(tx, row, admin.actor);
        return {
          result: { row, secret: await record(tx, row), created: !existing },
          facts: { secretId: id },
        };
      });
      await deps.invalidate({ secretNames: [outcome.row.name] });
      if (input.value !== undefined) changed(outcome.row);
      return { secret: outcome.secret, created: outcome.created };
    },

    listVersions(admin: Admin, id: string) {
      return deps.audit.read({ ...admin, event: AuditEventName.secretVersions, targetId: id }, async () => {
        const secret = await deps.dals.secrets.findById(id);
        if (!secret) throw new BusError(ErrorCode.NOT_FOUND, `No secret has the id "${id}"`);
        const versions = await deps.dals.secretVersions.list(id);
        return { versions: versions.map(secretVersionRecord), currentVersion: secret.version };
      });
    },

    async rollback(
      admin: Admin,
      input: { id: string; version: number; expectedVersion?: number | undefined },
    ) {
      const facts = { ...admin, event: AuditEventName.secretRollback, targetId: input.id };
      const outcome = await deps.audit.change(facts, async (tx) => {
        const secret = await tx.secrets.findById(input.id);
        if (!secret) throw new BusError(ErrorCode.NOT_FOUND, `No secret has the id "${input.id}"`);
        if (input.expectedVersion !== undefined && input.expectedVersion !== secret.version) {
          throw versionConflict(secret.name, secret.version, input.expectedVersion);
        }
        const kept = await tx.secretVersions.find(secret.id, input.version);
        if (!kept) {
          throw new BusError(ErrorCode.NOT_FOUND, `Secret ${secret.name} keeps no version ${input.version}`);
        }
        // The kept envelope is bound to its own version: re-encrypted as the new one, under the current key.
        await deps.keyring.refresh();
        const version = secret.version + 1;
        const plaintext = deps.keyring.decrypt(kept.valueEncrypted, {
          secretId: secret.id,
          version: kept.version,
        });
        const valueEncrypted = deps.keyring.encrypt(plaintext, { secretId: secret.id, version });
        plaintext.fill(0);
        const keyId = deps.keyring.keyIdOf(valueEncrypted);
        const row = await tx.secrets.update(secret.id, { valueEncrypted, keyId, version }, secret.version);
        if (!row) throw concurrentChange(secret.name);
        await keepVersion(tx, row, admin.actor, input.version);
        return {
          result: { row, secret: await record(tx, row) },
          facts: { secretId: row.id, secretName: row.name },
        };
      });
      await deps.invalidate({ secretNames: [outcome.row.name] });
      changed(outcome.row);
      return { secret: outcome.secret };
    },

    async remove(admin: Admin, id: string) {
      const removed = await deps.audit.change(
        { ...admin, event: AuditEventName.secretDelete, targetId: id },
        async (tx) => {
          const secret = await tx.secrets.findById(id);
          if (!secret || !(await tx.secrets.remove(id))) {
            throw new BusError(ErrorCode.NOT_FOUND, `No secret has the id "${id}"`);
          }
          return { result: secret, facts: { secretId: id, secretName: secret.name } };
        },
      );
      await deps.invalidate({ secretNames: [removed.name], secretIds: [removed.id] });
      deps.announce({ secretId: removed.id, secretName: removed.name, version: 0, deleted: true });
      return {};
    },
  };
}
