/**
 * The admin API's JSON, as `services/admin-api/src/*\/model.ts` defines it. Timestamps are ISO-8601 strings
 * or null; no shape ever holds a secret value or a token.
 */

export interface Secret {
  id: string;
  name: string;
  /** Empty when nobody described it. */
  description: string;
  /** True once a value is set; the value itself is never returned. */
  hasValue: boolean;
  isActive: boolean;
  /** A service asked for it before an admin created it. */
  isStub: boolean;
  createdAt: string;
  updatedAt: string;
  /** The admin that created it, or for a stub the service that asked for it. */
  createdBy: string;
  /** Services with an access request for it, in any status. */
  requestedBy: string[];
  /** The current value's version (1 for the first value, +1 per change); 0 while it has none. */
  version: number;
}

export interface SecretPage {
  secrets: Secret[];
  nextCursor: string | null;
}

/** A kept value's metadata (`GET /secrets/:id/versions`); never the value. */
export interface SecretVersion {
  version: number;
  /** When this value was set. */
  createdAt: string;
  /** The admin who set it (or rolled back to it). */
  createdBy: string;
  /** The version a rollback restored; null for a value typed in. */
  restoredFrom: number | null;
  /** True for the current value. */
  current: boolean;
}

export interface SecretVersionList {
  /** Newest first; only the last ones are kept (10 unless the vault says otherwise). */
  versions: SecretVersion[];
}

export type AccessStatus = "pending" | "granted" | "denied";

export interface AccessRequest {
  id: string;
  secretId: string;
  secretName: string;
  serviceName: string;
  status: AccessStatus;
  requestedAt: string;
  grantedAt: string | null;
  grantedBy: string | null;
  accessCount: number;
  lastAccessedAt: string | null;
  /** The description the service last sent, when it differs from the secret's. */
  requestedDescription: string | null;
}

/**
 * A pending queue at the vault's limit (`MAX_PENDING_*`): further registrations or new secret names are
 * refused until an admin decides some. Exactly one of `serviceName` and `clientAddress` is set.
 */
export interface PendingLimit {
  serviceName: string | null;
  clientAddress: string | null;
  pending: number;
  limit: number;
}

export interface AccessRequestPage {
  accessRequests: AccessRequest[];
  nextCursor: string | null;
  /** Services whose pending requests reached the limit, whatever the page. */
  pendingLimitsReached: PendingLimit[];
}

export type TokenStatus = "pending" | "approved" | "denied" | "revoked";

export interface ServiceToken {
  id: string;
  serviceName: string;
  /** Empty when the service reported none. */
  serviceVersion: string;
  status: TokenStatus;
  requestedAt: string;
  approvedAt: string | null;
  approvedBy: string | null;
  lastUsedAt: string | null;
  accessCount: number;
  /** Secrets already granted to this service name: what approving the token hands over. */
  inheritedGrants: number;
  /** First 8 hex characters of the token's SHA-256; the service logs the same at start-up. */
  fingerprint: string;
  /** Where the registration came from; null for tokens registered before it was kept. */
  clientAddress: string | null;
}

export interface ServiceTokenPage {
  serviceTokens: ServiceToken[];
  nextCursor: string | null;
  /** Service names and client addresses whose pending tokens reached the limit. */
  pendingLimitsReached: PendingLimit[];
}

export interface AuditEvent {
  id: string;
  timestamp: string;
  level: string;
  event: string;
  success: boolean;
  reason: string | null;
  secretId: string | null;
  secretName: string | null;
  serviceName: string | null;
  actor: string | null;
  targetId: string | null;
  subject: string | null;
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
}

/** One problem in the audit trail's hash chain or digests, by position. */
export interface AuditTrailProblem {
  kind: "modified" | "missing" | "inserted" | "reordered" | "bad-digest";
  seq: number | null;
  toSeq: number | null;
  detail: string;
}

/** `GET /audit/verify`: the chain and signed digests of a time range, verified by the audit service. */
export interface AuditVerification {
  ok: boolean;
  from: string;
  to: string;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  validDigests: number;
  signedThroughSeq: number | null;
  truncated: boolean;
  problems: AuditTrailProblem[];
}

/** A page of the audit trail (`GET /audit`), newest first. */
export interface AuditPage {
  events: AuditEvent[];
  /** For the older events of the same query; null when there are none. */
  nextCursor: string | null;
}

/** Encryption-key rotation (`GET /keys`), without any key material or key id. */
export interface KeyStatus {
  /** When the current key was created. */
  lastRotatedAt: string;
  /** When the schedule rotates it next. */
  nextRotationAt: string;
  /** Values (current and kept versions) still under an older key; the background rewrap moves them. */
  pendingRewrap: number;
  /** Keys in the key file: the current one and older ones still in use or in their grace period. */
  keyCount: number;
}

/** `POST /keys/rotate`'s answer: new writes use the new key at once. */
export interface RotationStarted {
  rotatedAt: string;
  pendingRewrap: number;
}

export interface Session {
  admin: { name: string };
  /** Null for an admin token, which does not expire. */
  expiresAt: string | null;
  /** `GET /session` only: the bootstrap admin token still works (the dashboard warns). */
  bootstrapTokenActive?: boolean;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** The one error body every failure carries. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string; fields?: FieldProblem[] };
}
