import { describe, expect, it } from "vitest";
import { toSecretsError } from "./error-mapping.ts";
import {
  AccessDeniedError,
  AccessPendingError,
  SecretMissingError,
  SecretsConfigurationError,
  SecretsError,
  SecretsUnavailableError,
  TokenPendingApprovalError,
} from "./errors.ts";

const context = {
  serviceName: "orders",
  secretName: "DATABASE_URL",
  address: "localhost:50051",
  tokenFile: "/data/service-token",
  timeoutMs: 5_000,
};

const map = (code: string, reason = "", details = "the gateway's message") =>
  toSecretsError({ code, reason, details, requestId: "req-1" }, context);

describe("toSecretsError", () => {
  it.each([
    [
      "PERMISSION_DENIED",
      "TOKEN_PENDING_APPROVAL",
      TokenPendingApprovalError,
      /service "orders" awaits an admin's approval/,
    ],
    ["PERMISSION_DENIED", "TOKEN_DENIED", AccessDeniedError, /delete \/data\/service-token/],
    ["NOT_FOUND", "SECRET_STUB_CREATED", SecretMissingError, /add its value.*approve access/],
    ["PERMISSION_DENIED", "ACCESS_PENDING", AccessPendingError, /must approve the access request/],
    [
      "PERMISSION_DENIED",
      "ACCESS_DENIED",
      AccessDeniedError,
      /denied service "orders" access to DATABASE_URL/,
    ],
    [
      "FAILED_PRECONDITION",
      "SECRET_HAS_NO_VALUE",
      SecretMissingError,
      /has no value yet: an admin must set one/,
    ],
    ["RESOURCE_EXHAUSTED", "RATE_LIMITED", SecretsUnavailableError, /rate-limiting/],
    ["RESOURCE_EXHAUSTED", "PENDING_LIMIT_REACHED", SecretsUnavailableError, /until an admin decides/],
    ["UNAVAILABLE", "AUDIT_UNAVAILABLE", SecretsUnavailableError, /audit trail/],
    ["UNAVAILABLE", "", SecretsUnavailableError, /localhost:50051 could not serve.*running and reachable/],
    ["DEADLINE_EXCEEDED", "", SecretsUnavailableError, /did not answer within 5000 ms/],
    ["INTERNAL", "", SecretsUnavailableError, /request id req-1/],
    ["NOT_FOUND", "", SecretMissingError, /add or re-activate/],
    ["PERMISSION_DENIED", "", AccessDeniedError, /refused/],
    ["UNAUTHENTICATED", "", AccessDeniedError, /does not know the token/],
    ["INVALID_ARGUMENT", "", SecretsConfigurationError, /refused the request/],
    ["UNIMPLEMENTED", "", SecretsConfigurationError, /does not serve secrets.v1.SecretsService/],
  ])("%s %s → %s", (code, reason, type, message) => {
    const error = map(code, reason);
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(SecretsError);
    expect(error.name).toBe(type.name);
    expect(error.message).toMatch(message);
    expect(error).toMatchObject({
      serviceName: "orders",
      secretName: "DATABASE_URL",
      reason: reason || code,
      requestId: "req-1",
    });
    expect(String((error.cause as Error).message)).toContain("the gateway's message");
  });

  it("prefers the reason to the status code", () => {
    expect(map("UNAVAILABLE", "ACCESS_PENDING")).toBeInstanceOf(AccessPendingError);
  });
});
