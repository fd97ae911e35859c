/**
 * The subjects registry: every request-reply operation and every topic on the bus, with its message
 * types. Subjects are relative to the bus namespace (`secrets.` by default) and versioned (`v1.`).
 * Callers use these definitions with `request`/`serve` (typed.ts); nobody writes a subject by hand.
 *
 * NATS permissions follow the prefixes: the gateway may request only `v1.vault.service.>`,
 * the admin API only `v1.vault.admin.>` and `v1.audit.query`.
 */
import {
  AdminPlaneStatusReply,
  AdminPlaneStatusRequest,
  AuthenticateAdminReply,
  AuthenticateAdminRequest,
  AuthenticateAdminSessionReply,
  AuthenticateAdminSessionRequest,
  CreateAdminSessionReply,
  CreateAdminSessionRequest,
  DecideAccessRequestReply,
  DecideAccessRequestRequest,
  DecideServiceTokenReply,
  DecideServiceTokenRequest,
  DeleteSecretReply,
  DeleteSecretRequest,
  EndAdminSessionReply,
  EndAdminSessionRequest,
  GrantAccessReply,
  GrantAccessRequest,
  KeyStatusReply,
  KeyStatusRequest,
  ListAccessRequestsReply,
  ListAccessRequestsRequest,
  ListSecretsReply,
  ListSecretsRequest,
  ListSecretVersionsReply,
  ListSecretVersionsRequest,
  ListServiceTokensReply,
  ListServiceTokensRequest,
  PutSecretReply,
  PutSecretRequest,
  RollbackSecretReply,
  RollbackSecretRequest,
  RotateKeyReply,
  RotateKeyRequest,
  SealingKeyReply,
  SealingKeyRequest,
} from "@secrets/proto/admin";
import {
  AuditEvent,
  AuditQueryReply,
  AuditQueryRequest,
  AuditStatusReply,
  AuditStatusRequest,
  AuditVerifyReply,
  AuditVerifyRequest,
} from "@secrets/proto/audit";
import {
  CacheInvalidation,
  SecretChanged,
  ServiceTokensChanged,
  VaultApprovedTokenKeysReply,
  VaultApprovedTokenKeysRequest,
  VaultAuthorizeWatchReply,
  VaultAuthorizeWatchRequest,
  VaultGetSecretReply,
  VaultGetSecretRequest,
  VaultGetSecretsReply,
  VaultGetSecretsRequest,
  VaultPingReply,
  VaultPingRequest,
  VaultRegisterTokenReply,
  VaultRegisterTokenRequest,
  VaultReportThrottledReply,
  VaultReportThrottledRequest,
} from "@secrets/proto/vault";
import type { StreamSpec } from "./bus.ts";

/** What ts-proto generates for each message: enough to put it on the wire and take it off. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** A request-reply operation: its relative subject and the types of its request and reply. */
export interface Operation<Req, Rep> {
  readonly subject: string;
  readonly request: MessageCodec<Req>;
  readonly reply: MessageCodec<Rep>;
}

/** A published message type: its relative subject and payload type. */
export interface Topic<T> {
  readonly subject: string;
  readonly message: MessageCodec<T>;
}

function operation<Req, Rep>(subject: string, request: MessageCodec<Req>, reply: MessageCodec<Rep>) {
  return { subject, request, reply } as const satisfies Operation<Req, Rep>;
}

/** The queue group in which every vault replica serves, so each request reaches exactly one. */
export const vaultQueue = "vault";

/** Service-facing vault operations, requested by the gRPC gateway. */
export const serviceOperations = {
  getSecret: operation("v1.vault.service.get-secret", VaultGetSecretRequest, VaultGetSecretReply),
  /** Several secrets for one token: one outcome per secret, each audited; values only once all are stored. */
  getSecrets: operation("v1.vault.service.get-secrets", VaultGetSecretsRequest, VaultGetSecretsReply),
  registerToken: operation(
    "v1.vault.service.register-token",
    VaultRegisterTokenRequest,
    VaultRegisterTokenReply,
  ),
  ping: operation("v1.vault.service.ping", VaultPingRequest, VaultPingReply),
  /** A WatchSecrets stream's token and names: which requested secrets the service is granted, and their versions. */
  authorizeWatch: operation(
    "v1.vault.service.authorize-watch",
    VaultAuthorizeWatchRequest,
    VaultAuthorizeWatchReply,
  ),
  /** The keys of the approved tokens, so a gateway never charges an approved token to its address's budget. */
  approvedTokenKeys: operation(
    "v1.vault.service.approved-token-keys",
    VaultApprovedTokenKeysRequest,
    VaultApprovedTokenKeysReply,
  ),
  /** Calls a gateway refused on a spent budget, summarised into audit events. */
  reportThrottled: operation(
    "v1.vault.service.report-throttled",
    VaultReportThrottledRequest,
    VaultReportThrottledReply,
  ),
} as const;

/** Admin operations on the vault, requested by the admin API. */
export const adminOperations = {
  ping: operation("v1.vault.admin.ping", VaultPingRequest, VaultPingReply),
  authenticate: operation("v1.vault.admin.authenticate", AuthenticateAdminRequest, AuthenticateAdminReply),
  createSession: operation(
    "v1.vault.admin.create-session",
    CreateAdminSessionRequest,
    CreateAdminSessionReply,
  ),
  authenticateSession: operation(
    "v1.vault.admin.authenticate-session",
    AuthenticateAdminSessionRequest,
    AuthenticateAdminSessionReply,
  ),
  endSession: operation("v1.vault.admin.end-session", EndAdminSessionRequest, EndAdminSessionReply),
  /** Admin credentials the admin API refused on a spent budget, summarised into audit events. */
  reportThrottled: operation(
    "v1.vault.admin.report-throttled",
    VaultReportThrottledRequest,
    VaultReportThrottledReply,
  ),
  sealingKey: operation("v1.vault.admin.sealing-key", SealingKeyRequest, SealingKeyReply),
  listSecrets: operation("v1.vault.admin.list-secrets", ListSecretsRequest, ListSecretsReply),
  putSecret: operation("v1.vault.admin.put-secret", PutSecretRequest, PutSecretReply),
  deleteSecret: operation("v1.vault.admin.delete-secret", DeleteSecretRequest, DeleteSecretReply),
  listSecretVersions: operation(
    "v1.vault.admin.list-secret-versions",
    ListSecretVersionsRequest,
    ListSecretVersionsReply,
  ),
  rollbackSecret: operation("v1.vault.admin.rollback-secret", RollbackSecretRequest, RollbackSecretReply),
  listAccessRequests: operation(
    "v1.vault.admin.list-access-requests",
    ListAccessRequestsRequest,
    ListAccessRequestsReply,
  ),
  approveAccessRequest: operation(
    "v1.vault.admin.approve-access-request",
    DecideAccessRequestRequest,
    DecideAccessRequestReply,
  ),
  denyAccessRequest: operation(
    "v1.vault.admin.deny-access-request",
    DecideAccessRequestRequest,
    DecideAccessRequestReply,
  ),
  grantAccess: operation("v1.vault.admin.grant-access", GrantAccessRequest, GrantAccessReply),
  rotateKey: operation("v1.vault.admin.rotate-key", RotateKeyRequest, RotateKeyReply),
  keyStatus: operation("v1.vault.admin.key-status", KeyStatusRequest, KeyStatusReply),
  /** Whether the bootstrap admin token is still active, for the dashboard's warning. */
  adminPlaneStatus: operation(
    "v1.vault.admin.admin-plane-status",
    AdminPlaneStatusRequest,
    AdminPlaneStatusReply,
  ),
  listServiceTokens: operation(
    "v1.vault.admin.list-service-tokens",
    ListServiceTokensRequest,
    ListServiceTokensReply,
  ),
  approveServiceToken: operation(
    "v1.vault.admin.approve-service-token",
    DecideServiceTokenRequest,
    DecideServiceTokenReply,
  ),
  denyServiceToken: operation(
    "v1.vault.admin.deny-service-token",
    DecideServiceTokenRequest,
    DecideServiceTokenReply,
  ),
  revokeServiceToken: operation(
    "v1.vault.admin.revoke-service-token",
    DecideServiceTokenRequest,
    DecideServiceTokenReply,
  ),
} as const;

/** The queue group in which audit services answer queries. */
export const auditQueue = "audit";

/** Operations of the audit service, requested by the admin API (queries) and by operators (status). */
export const auditOperations = {
  query: operation("v1.audit.query", AuditQueryRequest, AuditQueryReply),
  status: operation("v1.audit.status", AuditStatusRequest, AuditStatusReply),
  /** The hash chain and digests checked over a time range, and the public key they are checked with. */
  verify: operation("v1.audit.verify", AuditVerifyRequest, AuditVerifyReply),
} as const;

/** A secret's value changed or it was deleted (never the value): for watchers and caches. */
export const secretChangedTopic: Topic<SecretChanged> = {
  subject: "v1.vault.events.secret-changed",
  message: SecretChanged,
};

/**
 * Tokens, secrets or access requests changed (ids and names only): every vault replica drops what it
 * cached of them. Vaults alone publish and hear it (`deploy/nats.conf`).
 */
export const cacheInvalidatedTopic: Topic<CacheInvalidation> = {
  subject: "v1.vault.events.cache-invalidated",
  message: CacheInvalidation,
};

/** Audit events, published durably by the vault before it answers. */
export const auditEventsTopic: Topic<AuditEvent> = { subject: "v1.audit.events", message: AuditEvent };

/** Relative name of the audit stream (`SECRETS_AUDIT` in the default namespace). */
export const auditStreamName = "AUDIT";

/**
 * The audit stream: a work queue holding the events the audit shipper has not yet delivered to Loki
 * (an acknowledged event leaves the stream). Discard-new: when `maxBytes` is reached the stream refuses
 * new events, so GetSecret fails closed (UNAVAILABLE, AUDIT_UNAVAILABLE) instead of audit being dropped.
 * `maxAgeMs` 0 keeps undelivered events however old they are.
 */
export function auditStreamSpec(limits: { maxAgeMs: number; maxBytes: number }): StreamSpec {
  return {
    name: auditStreamName,
    subjects: [auditEventsTopic.subject],
    retention: "workqueue",
    maxAgeMs: limits.maxAgeMs,
    maxBytes: limits.maxBytes,
    duplicateWindowMs: 2 * 60_000,
  };
}

/** A service token's status changed: gateways fetch the approved token keys again (names nothing). */
export const serviceTokensChangedTopic: Topic<ServiceTokensChanged> = {
  subject: "v1.vault.events.service-tokens-changed",
  message: ServiceTokensChanged,
};
