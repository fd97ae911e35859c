import { BusError, ErrorCode, Reason } from "@secrets/bus";
import { describe, expect, it } from "vitest";
import { apiErrors } from "./api-error.ts";
import { busErrorStatus, mapError } from "./error-map.ts";

describe("the bus error table", () => {
  it("maps every code to a status", () => {
    const codes = Object.values(ErrorCode).filter((c): c is ErrorCode => typeof c === "number");
    expect(Object.fromEntries(codes.map((c) => [ErrorCode[c], busErrorStatus[c].status]))).toEqual({
      UNSPECIFIED: 500,
      INVALID_ARGUMENT: 422,
      UNAUTHENTICATED: 401,
      PERMISSION_DENIED: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      FAILED_PRECONDITION: 409,
      RESOURCE_EXHAUSTED: 429,
      UNAVAILABLE: 503,
      TIMEOUT: 503,
      NO_RESPONDERS: 503,
      INTERNAL: 500,
      UNRECOGNIZED: 500,
    });
  });

  it("passes the vault's message and field violations through, but not a bus-level or internal one", () => {
    const invalid = new BusError(ErrorCode.INVALID_ARGUMENT, "Invalid request: name: must match", {
      violations: [{ field: "name", description: "must match" }],
      reason: Reason.UNSPECIFIED,
    });
    expect(mapError(invalid, "r1")).toMatchObject({
      status: 422,
      body: {
        error: {
          code: "INVALID_ARGUMENT",
          requestId: "r1",
          fields: [{ field: "name", message: "must match" }],
        },
      },
      internal: false,
    });
    const noResponders = mapError(
      new BusError(ErrorCode.NO_RESPONDERS, "No service answers v1.vault.admin.x"),
      "r",
    );
    expect(noResponders.body.error.message).not.toContain("v1.vault");
    const internal = mapError(new BusError(ErrorCode.INTERNAL, "stack at db.ts:12"), "r");
    expect(internal).toMatchObject({ status: 500, internal: true, body: { error: { code: "INTERNAL" } } });
    expect(internal.body.error.message).not.toContain("db.ts");
  });

  it("hides anything unexpected behind a 500, and keeps an ApiError's headers", () => {
    expect(mapError(new TypeError("x is undefined"), "r")).toMatchObject({ status: 500, internal: true });
    expect(mapError(new TypeError("x is undefined"), "r").body.error.message).not.toContain("undefined");
    expect(mapError(apiErrors.rateLimited(5_500), "r")).toMatchObject({
      status: 429,
      headers: { "retry-after": "6" },
      internal: false,
    });
  });
});
