import { secretNamePattern } from "@secrets/validation";
import { t } from "elysia";
import { nextCursor, pageQuery, timestamp } from "../shared/model.ts";

/**
 * Versions travel to the vault as int32: a larger integer (1e308 is one to JSON) is refused here with 422
 * instead of failing to encode (test/hardening/fuzz/admin-api-fuzz.test.ts).
 */
const maxVersion = 2_147_483_647;

export const SecretView = t.Object(
  {
    id: t.String({ description: "The secret's id" }),
    name: t.String({ description: "Its name, shaped like an environment variable" }),
    description: t.String({ description: "What it is for; empty when nobody described it" }),
    hasValue: t.Boolean({ description: "True once a value is set; the value itself is never returned" }),
    isActive: t.Boolean({ description: "False when the secret is disabled" }),
    isStub: t.Boolean({ description: "True when a service asked for it before an admin created it" }),
    createdAt: timestamp("When it was created"),
    updatedAt: timestamp("When its description or value last changed"),
    createdBy: t.String({
      description: "The admin that created it, or for a stub the service that asked for it",
    }),
    requestedBy: t.Array(t.String({ description: "A service name" }), {
      description: "Services with an access request for it, in any status",
    }),
    version: t.Integer({
      description: "The current value's version (1 for the first value, +1 per change); 0 while it has none",
    }),
  },
  { description: "A secret without its value: values are write-only" },
);
export type SecretView = typeof SecretView.static;

export const ListSecretsQuery = t.Object({
  q: t.Optional(
    t.String({ maxLength: 256, description: "Only secrets whose name or description contains this" }),
  ),
  missing: t.Optional(t.Boolean({ description: "true: only stubs that still have no value" })),
  ...pageQuery,
});
export type ListSecretsQuery = typeof ListSecretsQuery.static;

export const SecretList = t.Object(
  {
    secrets: t.Array(SecretView, { description: "One page of secrets, by name" }),
    nextCursor,
  },
  { description: "A page of secrets" },
);
export type SecretList = typeof SecretList.static;

export const PutSecretBody = t.Object(
  {
    name: t.String({
      pattern: secretNamePattern.source,
      description: "Upper-case letters, digits and `_`, starting with a letter; at most 128 characters",
    }),
    description: t.Optional(
      t.String({ maxLength: 1024, description: "What it is for, at most 1 KiB of UTF-8; omitted: kept" }),
    ),
    value: t.Optional(
      t.String({
        maxLength: 64 * 1024,
        description: "The value, at most 64 KiB of UTF-8 without NUL; write-only; omitted: kept",
      }),
    ),
    expectedVersion: t.Optional(
      t.Integer({
        minimum: 0,
        maximum: maxVersion,
        description:
          "Check-and-set: the version you last saw (0: no value yet); another current version answers 409 " +
          "instead of overwriting someone else's change",
      }),
    ),
  },
  { description: "Creates the secret, or updates the one with this name" },
);
export type PutSecretBody = typeof PutSecretBody.static;

export const SecretEnvelope = (description: string) => t.Object({ secret: SecretView }, { description });

export const SecretVersionView = t.Object(
  {
    version: t.Integer({ description: "The version number" }),
    createdAt: timestamp("When this value was set"),
    createdBy: t.String({ description: "The admin who set it" }),
    restoredFrom: t.Nullable(t.Integer(), { description: "The version a rollback restored; null otherwise" }),
    current: t.Boolean({ description: "True for the current value" }),
  },
  { description: "A kept value's metadata; never the value" },
);
export type SecretVersionView = typeof SecretVersionView.static;

export const SecretVersionList = t.Object(
  { versions: t.Array(SecretVersionView, { description: "Kept versions, newest first" }) },
  { description: "The values a secret has had (the last ones are kept)" },
);
export type SecretVersionList = typeof SecretVersionList.static;

export const RollbackBody = t.Object(
  {
    version: t.Integer({
      minimum: 1,
      maximum: maxVersion,
      description: "The kept version whose value becomes current again",
    }),
    expectedVersion: t.Optional(
      t.Integer({
        minimum: 0,
        maximum: maxVersion,
        description: "Check-and-set: the current version you last saw",
      }),
    ),
  },
  { description: "Restores a kept value as a new version" },
);
export type RollbackBody = typeof RollbackBody.static;
