import { BusError, ErrorCode } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { describe, expect, it } from "vitest";
import { toBusError } from "./errors.ts";

/** What drizzle throws: a wrapper whose cause is the driver's error with its SQLSTATE. */
const queryFailure = (code: string) =>
  new Error("Failed query: select … params: …", { cause: Object.assign(new Error("driver"), { code }) });

describe("toBusError", () => {
  it("passes a BusError through", () => {
    const error = new BusError(ErrorCode.NOT_FOUND, "No such secret");
    expect(toBusError(error, silentLogger, "test")).toBe(error);
  });

  it("turns text the database cannot hold (a NUL byte) into INVALID_ARGUMENT, not INTERNAL", () => {
    for (const code of ["22021", "22P05"]) {
      const error = toBusError(queryFailure(code), silentLogger, "test");
      expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(error.message).toMatch(/NUL/);
    }
  });

  it("tells an unreachable database (UNAVAILABLE) from a failure (INTERNAL, without detail)", () => {
    expect(toBusError(queryFailure("57P01"), silentLogger, "test").code).toBe(ErrorCode.UNAVAILABLE);
    const internal = toBusError(queryFailure("42P01"), silentLogger, "test");
    expect(internal.code).toBe(ErrorCode.INTERNAL);
    expect(internal.message).not.toMatch(/select|params/);
  });
});
