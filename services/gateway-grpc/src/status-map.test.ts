import { status } from "@grpc/grpc-js";
import { BusError, ErrorCode, Reason, serve, serviceOperations, vaultQueue } from "@secrets/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getSecret, type Harness, startGateway, text } from "../test/harness.ts";
import { GatewayFailure, toGrpcFailure } from "./status-map.ts";

const token = "tok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** [bus code, reason, expected gRPC status, expected message (a pattern)] */
const table: [ErrorCode, Reason, status, RegExp][] = [
  [ErrorCode.INVALID_ARGUMENT, Reason.UNSPECIFIED, status.INVALID_ARGUMENT, /^vault says INVALID_ARGUMENT$/],
  [
    ErrorCode.UNAUTHENTICATED,
    Reason.TOKEN_PENDING_APPROVAL,
    status.UNAUTHENTICATED,
    /^vault says UNAUTHENTICATED$/,
  ],
  [ErrorCode.UNAUTHENTICATED, Reason.TOKEN_DENIED, status.UNAUTHENTICATED, /^vault says/],
  [ErrorCode.PERMISSION_DENIED, Reason.ACCESS_PENDING, status.PERMISSION_DENIED, /^vault says/],
  [ErrorCode.PERMISSION_DENIED, Reason.ACCESS_DENIED, status.PERMISSION_DENIED, /^vault says/],
  [ErrorCode.NOT_FOUND, Reason.SECRET_STUB_CREATED, status.NOT_FOUND, /^vault says NOT_FOUND$/],
  [ErrorCode.CONFLICT, Reason.VERSION_CONFLICT, status.ABORTED, /^vault says CONFLICT$/],
  [ErrorCode.FAILED_PRECONDITION, Reason.SECRET_HAS_NO_VALUE, status.FAILED_PRECONDITION, /^vault says/],
  [ErrorCode.RESOURCE_EXHAUSTED, Reason.RATE_LIMITED, status.RESOURCE_EXHAUSTED, /^vault says/],
  [ErrorCode.UNAVAILABLE, Reason.AUDIT_UNAVAILABLE, status.UNAVAILABLE, /^vault says UNAVAILABLE$/],
  [ErrorCode.UNAVAILABLE, Reason.UNSPECIFIED, status.UNAVAILABLE, /^The vault is unavailable right now/],
  [ErrorCode.TIMEOUT, Reason.UNSPECIFIED, status.UNAVAILABLE, /^The vault did not answer in time/],
  [ErrorCode.NO_RESPONDERS, Reason.UNSPECIFIED, status.UNAVAILABLE, /^The vault is not answering/],
  [ErrorCode.INTERNAL, Reason.UNSPECIFIED, status.INTERNAL, /^The gateway could not handle the request/],
  [ErrorCode.UNSPECIFIED, Reason.UNSPECIFIED, status.INTERNAL, /^The gateway could not handle the request/],
];

describe("bus errors through a real gRPC call", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startGateway();
    serve(harness.bus, serviceOperations.getSecret, { queue: vaultQueue }, async (request) => {
      const [code, reason] = JSON.parse(request.description) as [ErrorCode, Reason];
      throw new BusError(code, `vault says ${ErrorCode[code]}`, { reason });
    });
  });
  afterAll(() => harness.close());

  it.each(table)("bus %s (reason %s) → gRPC %s", async (code, reason, expected, message) => {
    const description = JSON.stringify([code, reason]);
    const result = await getSecret(harness, {
      secretName: "ANY_SECRET",
      description,
      token,
    });
    expect(result.error?.code).toBe(expected);
    expect(result.error?.details).toMatch(message);
    const reasonName = reason === Reason.UNSPECIFIED ? undefined : Reason[reason];
    expect(text(result.trailers, "secrets-reason")).toBe(
      expected === status.INTERNAL ? undefined : reasonName,
    );
    expect(text(result.trailers, "secrets-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("toGrpcFailure", () => {
  it("passes a GatewayFailure through", () => {
    expect(toGrpcFailure(new GatewayFailure(status.DEADLINE_EXCEEDED, "late"), "r1")).toEqual({
      code: status.DEADLINE_EXCEEDED,
      message: "late",
      reason: "",
    });
  });

  it("turns anything unexpected into a generic INTERNAL with the detail for the log only", () => {
    const failure = toGrpcFailure(new TypeError("x is undefined at db.ts:12"), "r2");
    expect(failure.code).toBe(status.INTERNAL);
    expect(failure.message).not.toContain("db.ts");
    expect(failure.message).toContain("r2");
    expect(failure.detail).toContain("db.ts:12");
  });

  it("maps an unrecognised code to INTERNAL", () => {
    expect(toGrpcFailure(new BusError(99 as ErrorCode, "future"), "r3").code).toBe(status.INTERNAL);
  });
});
