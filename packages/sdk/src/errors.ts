/**
 * The SDK's closed set of errors. Callers test the class (`error instanceof AccessPendingError`), never
 * the message. Each message says what the operator should do and what an admin must approve; none holds a
 * secret value or a token.
 */

export interface SecretsErrorDetails {
  /** The declared key the call was for, when it was for one. */
  secretName?: string;
  /** The service the client runs as (empty in `source: "env"` mode). */
  serviceName?: string;
  /**
   * The machine reason: the gateway's `secrets-reason` trailer (`ACCESS_PENDING`, ...) when it sent one,
   * else the gRPC status name (`UNAVAILABLE`), else an SDK reason (`ENV_VARIABLE_MISSING`, `INVALID_SCHEMA`).
   */
  reason?: string;
  /** The gateway's `secrets-request-id`, to find the call in the gateway's log and the audit trail. */
  requestId?: string;
  cause?: unknown;
}

/** Base class of every error the SDK throws. */
export class SecretsError extends Error {
  override name = "SecretsError";
  readonly secretName: string;
  readonly serviceName: string;
  readonly reason: string;
  readonly requestId: string;

  constructor(message: string, details: SecretsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.secretName = details.secretName ?? "";
    this.serviceName = details.serviceName ?? "";
    this.reason = details.reason ?? "";
    this.requestId = details.requestId ?? "";
  }
}

/** The service's token is registered and waits for an admin to approve it. */
export class TokenPendingApprovalError extends SecretsError {
  override name = "TokenPendingApprovalError";
}

/** The service asked for a secret and an admin has not yet approved the access request. */
export class AccessPendingError extends SecretsError {
  override name = "AccessPendingError";
}

/**
 * The secret does not exist (the gateway recorded it as missing, a stub an admin sees), has no value
 * yet, or is inactive; in `source: "env"` mode, the environment variable is not set.
 */
export class SecretMissingError extends SecretsError {
  override name = "SecretMissingError";
}

/** An admin denied (or revoked) the service's token or its access to the secret. */
export class AccessDeniedError extends SecretsError {
  override name = "AccessDeniedError";
}

/**
 * The secret could not be read for now: the gateway, the vault or the audit trail is down, the call
 * timed out, or the gateway is rate-limiting. Retrying later can succeed.
 */
export class SecretsUnavailableError extends SecretsError {
  override name = "SecretsUnavailableError";
}

/**
 * The client is set up wrongly: invalid schema or options, an unsafe or unreadable token file, a key
 * that is not declared, or a request the gateway refuses as malformed. Retrying does not help.
 */
export class SecretsConfigurationError extends SecretsError {
  override name = "SecretsConfigurationError";
}
