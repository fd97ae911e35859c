/**
 * The vault's tables. drizzle-kit generates the migrations in `services/vault/drizzle/` from this file
 * (`bun run db:generate` in services/vault); the same migrations run on PostgreSQL and PGlite.
 *
 * Timestamps are `timestamp(3) with time zone`: millisecond precision matches a JavaScript `Date`, so a
 * keyset cursor built from a row's timestamp compares exactly with the stored value.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

/** Raw bytes. postgres.js returns a Buffer and PGlite a Uint8Array; both come out as a plain Uint8Array. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});

const timestampTz = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

/** Counters are BIGINT in the database and plain numbers in TypeScript (exact up to 2^53). */
const counter = (name: string) => bigint(name, { mode: "number" }).notNull().default(0);

export const ServiceTokenStatus = {
  pending: "pending",
  approved: "approved",
  denied: "denied",
  revoked: "revoked",
} as const;
export type ServiceTokenStatus = (typeof ServiceTokenStatus)[keyof typeof ServiceTokenStatus];

export const AccessRequestStatus = {
  pending: "pending",
  granted: "granted",
  denied: "denied",
} as const;
export type AccessRequestStatus = (typeof AccessRequestStatus)[keyof typeof AccessRequestStatus];

const serviceTokenStatuses = Object.values(ServiceTokenStatus) as [
  ServiceTokenStatus,
  ...ServiceTokenStatus[],
];
const accessRequestStatuses = Object.values(AccessRequestStatus) as [
  AccessRequestStatus,
  ...AccessRequestStatus[],
];

/** `status IN ('a', 'b')` with the values inlined, as a CHECK constraint needs. */
const statusIn = (values: readonly string[]) =>
  sql.raw(`status in (${values.map((value) => `'${value}'`).join(", ")})`);

export const secrets = pgTable(
  "secrets",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull().unique(),
    description: text("description").notNull().default(""),
    /** Keyring envelope of the value; NULL while the secret has no value (a stub, or not set yet). */
    valueEncrypted: bytea("value_encrypted"),
    /** Keyring key the value is encrypted under; NULL without a value. Indexed for rewrapping. */
    keyId: bigint("key_id", { mode: "number" }),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
    updatedAt: timestampTz("updated_at").notNull().defaultNow(),
    createdBy: text("created_by").notNull(),
    isActive: boolean("is_active").notNull().default(true),
    /** Created automatically because a service asked for a secret that did not exist. */
    isStub: boolean("is_stub").notNull().default(false),
    /** The current value's version (1, 2, ...); 0 while the secret has never had a value. */
    version: integer("version").notNull().default(0),
  },
  (table) => [index("secrets_key_id_idx").on(table.keyId)],
);

/**
 * Every value a secret has had, newest kept (the last 10 by default), encrypted like the current one (the
 * secret's id as AAD), so an admin can roll back and a rewrap moves them to a new key too.
 */
export const secretVersions = pgTable(
  "secret_versions",
  {
    secretId: text("secret_id")
      .notNull()
      .references(() => secrets.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    valueEncrypted: bytea("value_encrypted").notNull(),
    keyId: bigint("key_id", { mode: "number" }).notNull(),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
    createdBy: text("created_by").notNull(),
    /** For a rollback, the version whose value it restored; 0 otherwise. */
    restoredFrom: integer("restored_from").notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.secretId, table.version] }),
    index("secret_versions_key_id_idx").on(table.keyId),
  ],
);

export const serviceTokens = pgTable(
  "service_tokens",
  {
    id: text("id").primaryKey(),
    serviceName: text("service_name").notNull(),
    /** Hex SHA-256 of the token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    serviceVersion: text("service_version").notNull().default(""),
    /** The client address the registration came from (the gateway's CallerContext); counted for its limit. */
    clientAddress: text("client_address").notNull().default(""),
    requestedAt: timestampTz("requested_at").notNull().defaultNow(),
    status: text("status", { enum: serviceTokenStatuses }).notNull().default("pending"),
    /** The specification's `approved` flag, derived from `status` so the two cannot disagree. */
    approved: boolean("approved").generatedAlwaysAs(sql`status = 'approved'`),
    approvedAt: timestampTz("approved_at"),
    approvedBy: text("approved_by"),
    lastUsedAt: timestampTz("last_used_at"),
    accessCount: counter("access_count"),
  },
  (table) => [
    check("service_tokens_status_check", statusIn(serviceTokenStatuses)),
    index("service_tokens_status_idx").on(table.status),
    index("service_tokens_service_name_idx").on(table.serviceName),
    index("service_tokens_client_address_idx").on(table.clientAddress),
  ],
);

export const accessRequests = pgTable(
  "access_requests",
  {
    id: text("id").primaryKey(),
    secretId: text("secret_id")
      .notNull()
      .references(() => secrets.id, { onDelete: "cascade" }),
    serviceName: text("service_name").notNull(),
    requestedAt: timestampTz("requested_at").notNull().defaultNow(),
    status: text("status", { enum: accessRequestStatuses }).notNull(),
    grantedAt: timestampTz("granted_at"),
    grantedBy: text("granted_by"),
    accessCount: counter("access_count"),
    lastAccessedAt: timestampTz("last_accessed_at"),
    /** The description a service last sent when it differs from the secret's; empty otherwise. */
    requestedDescription: text("requested_description").notNull().default(""),
  },
  (table) => [
    check("access_requests_status_check", statusIn(accessRequestStatuses)),
    unique("access_requests_secret_service_unique").on(table.secretId, table.serviceName),
    index("access_requests_service_status_idx").on(table.serviceName, table.status),
    index("access_requests_status_requested_idx").on(table.status, table.requestedAt),
  ],
);

/**
 * Audit events of admin operations, written in the same transaction as the change they describe, then
 * published to the audit stream and deleted. A crash between commit and publish loses nothing: the relay
 * publishes what is left (the event id de-duplicates a second publish).
 */
export const auditOutbox = pgTable(
  "audit_outbox",
  {
    /** The event's id, also its message id on the stream. */
    id: text("id").primaryKey(),
    /** The encoded AuditEvent. */
    event: bytea("event").notNull(),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
  },
  (table) => [index("audit_outbox_created_at_idx").on(table.createdAt)],
);

/** Admin tokens: only their SHA-256 is stored. Created and revoked by the `admin:token` CLI. */
export const adminTokens = pgTable(
  "admin_tokens",
  {
    id: text("id").primaryKey(),
    /** The admin's name: what created_by, approved_by and granted_by record. */
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
    revokedAt: timestampTz("revoked_at"),
    lastUsedAt: timestampTz("last_used_at"),
    /**
     * Installed from ADMIN_BOOTSTRAP_TOKEN. Revoking it keeps the row, so no later start installs the
     * token again (the first token is stored only while no row exists), and the vault and the dashboard
     * warn while it is not revoked.
     */
    bootstrap: boolean("bootstrap").notNull().default(false),
  },
  (table) => [index("admin_tokens_name_idx").on(table.name)],
);

/** Dashboard sessions: the hash of the id in the admin's cookie; revoking the token ends its sessions. */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    sessionHash: text("session_hash").primaryKey(),
    adminTokenId: text("admin_token_id")
      .notNull()
      .references(() => adminTokens.id, { onDelete: "cascade" }),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
    expiresAt: timestampTz("expires_at").notNull(),
  },
  (table) => [index("admin_sessions_expires_at_idx").on(table.expiresAt)],
);

export type Secret = typeof secrets.$inferSelect;
export type ServiceToken = typeof serviceTokens.$inferSelect;
export type AccessRequest = typeof accessRequests.$inferSelect;
export type AdminToken = typeof adminTokens.$inferSelect;
export type SecretVersion = typeof secretVersions.$inferSelect;
