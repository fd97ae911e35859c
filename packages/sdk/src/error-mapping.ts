/**
 * The one place a failed gRPC call becomes one of the SDK's errors: the `secrets-reason` trailer decides
 * when present, the status code otherwise. Messages tell the operator what to do and what an admin must
 * approve; the gateway's own message is kept as the cause.
 */
import {
  AccessDeniedError,
  AccessPendingError,
  SecretMissingError,
  SecretsConfigurationError,
  type SecretsError,
  type SecretsErrorDetails,
  SecretsUnavailableError,
  TokenPendingApprovalError,
} from "./errors.ts";
import type { CallFailure } from "./transport.ts";

export interface FailureContext {
  serviceName: string;
  /** The key the call was for; empty for RegisterToken. */
  secretName: string;
  /** The gateway's address, for messages about reaching it. */
  address: string;
  /** Where the token is stored, for messages about starting over. */
  tokenFile: string;
  timeoutMs: number;
}

const unavailableCodes = new Set([
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "RESOURCE_EXHAUSTED",
  "ABORTED",
  "CANCELLED",
  "INTERNAL",
  "UNKNOWN",
  "DATA_LOSS",
]);

/** The SDK error for a failed call. */
export function toSecretsError(failure: CallFailure, context: FailureContext): SecretsError {
  const { serviceName: service, secretName: secret, address } = context;
  const details: SecretsErrorDetails = {
    serviceName: service,
    secretName: secret,
    reason: failure.reason || failure.code,
    requestId: failure.requestId,
    cause: new Error(`${failure.code}${failure.reason ? ` (${failure.reason})` : ""}: ${failure.details}`),
  };
  const subject = secret ? ` (reading ${secret})` : "";
  switch (failure.reason) {
    case "TOKEN_PENDING_APPROVAL":
      return new TokenPendingApprovalError(
        `The token of service "${service}" awaits an admin's approval: an admin must approve it (dashboard: ` +
          `service tokens, or POST /service-tokens/:id/approve). Keep ${context.tokenFile}: a new token would need a new approval.`,
        details,
      );
    case "TOKEN_DENIED":
      return new AccessDeniedError(
        `An admin denied or revoked the token of service "${service}"${subject}: to start over, delete ` +
          `${context.tokenFile} and restart the service, then have an admin approve the new token.`,
        details,
      );
    case "ACCESS_PENDING":
      return new AccessPendingError(
        `Service "${service}" asked for access to ${secret}: an admin must approve the access request ` +
          "(dashboard: access requests, or POST /access-requests/:id/approve).",
        details,
      );
    case "ACCESS_DENIED":
      return new AccessDeniedError(
        `An admin denied service "${service}" access to ${secret}: it can read it only once an admin ` +
          "approves the access request (POST /access-requests/:id/approve).",
        details,
      );
    case "SECRET_STUB_CREATED":
      return new SecretMissingError(
        `Secret ${secret} does not exist yet: it is listed as missing, with the description from the schema; an ` +
          `admin must add its value (dashboard, POST /secrets or \`secrets import-env\`) and approve access for service "${service}".`,
        details,
      );
    case "SECRET_HAS_NO_VALUE":
      return new SecretMissingError(
        `Secret ${secret} has no value yet: an admin must set one (dashboard, POST /secrets or \`secrets import-env\`).`,
        details,
      );
    case "AUDIT_UNAVAILABLE":
      return new SecretsUnavailableError(
        `The vault cannot record the access to ${secret} in the audit trail, so it returns no value: ` +
          "an operator must restore the audit stream (NATS JetStream); retry later.",
        details,
      );
    case "PENDING_LIMIT_REACHED":
      return new SecretsUnavailableError(
        `The vault records no more for service "${service}"${subject} until an admin decides what is pending: ${failure.details}`,
        details,
      );
    case "RATE_LIMITED":
      return new SecretsUnavailableError(
        `The gateway at ${address} is rate-limiting this service${subject}: ${failure.details}`,
        details,
      );
  }
  switch (failure.code) {
    case "NOT_FOUND":
      return new SecretMissingError(
        `Secret ${secret} is not available (${failure.details}): an admin must add or re-activate it.`,
        details,
      );
    case "PERMISSION_DENIED":
      return new AccessDeniedError(
        `The gateway refused service "${service}"${subject}: ${failure.details}`,
        details,
      );
    case "UNAUTHENTICATED":
      return new AccessDeniedError(
        `The gateway does not know the token of service "${service}" even after registering it${subject}; ` +
          "retry later, and if it persists ask an admin to check the service tokens.",
        details,
      );
    case "DEADLINE_EXCEEDED":
      return new SecretsUnavailableError(
        `The secrets gateway at ${address} did not answer within ${context.timeoutMs} ms${subject}: check that ` +
          "the gateway and the vault are running and reachable; retry later.",
        details,
      );
    case "UNIMPLEMENTED":
      return new SecretsConfigurationError(
        `${address} does not serve secrets.v1.SecretsService: check the gateway address.`,
        details,
      );
  }
  if (unavailableCodes.has(failure.code)) {
    const request = failure.requestId ? ` (request id ${failure.requestId})` : "";
    return new SecretsUnavailableError(
      `The secrets gateway at ${address} could not serve the request${subject}${request}: ${failure.details}. ` +
        "Check that the gateway and the vault are running and reachable (and the CA and server name if TLS fails); retry later.",
      details,
    );
  }
  return new SecretsConfigurationError(
    `The gateway at ${address} refused the request${subject} (${failure.code}): ${failure.details}`,
    details,
  );
}
