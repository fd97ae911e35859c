import { describe, expect, it } from "vitest";
import { checkDescription, checkGetSecret, checkRegisterToken, checkValue, limits } from "./index.ts";

const goodToken = "A".repeat(43);

describe("checkGetSecret", () => {
  it("accepts a valid request", () => {
    expect(checkGetSecret({ secretName: "STRIPE_API_KEY", description: "Stripe key", token: "t" })).toEqual(
      [],
    );
  });

  it.each([
    ["", "is required"],
    ["lower", "must match"],
    ["1ABC", "must match"],
    ["A-B", "must match"],
    [`A${"B".repeat(128)}`, "must match"],
    ["ÄBC", "must match"],
  ])("refuses the name %j", (secretName, message) => {
    const violations = checkGetSecret({ secretName, description: "", token: "t" });
    expect(violations).toEqual([{ field: "secret_name", description: expect.stringContaining(message) }]);
  });

  it("lists every problem at once", () => {
    const violations = checkGetSecret({ secretName: "x", description: "d".repeat(1025), token: "" });
    expect(violations.map((v) => v.field)).toEqual(["secret_name", "description", "token"]);
  });

  it("counts description bytes, not characters", () => {
    expect(checkDescription("é".repeat(512))).toEqual([]);
    expect(checkDescription("é".repeat(513))).toHaveLength(1);
    expect(checkDescription("tab\tand\nnewline")).toEqual([]);
    expect(checkDescription("nul\u0000")).toHaveLength(1);
  });
});

describe("checkRegisterToken", () => {
  it("accepts a valid registration", () => {
    expect(
      checkRegisterToken({ serviceName: "billing-api", serviceVersion: "1.2.3", token: goodToken }),
    ).toEqual([]);
  });

  it("refuses short, oversized and non-base64url tokens", () => {
    const check = (token: string) => checkRegisterToken({ serviceName: "a", serviceVersion: "", token });
    expect(check("A".repeat(42))[0]?.description).toMatch(/at least 43/);
    expect(check("A".repeat(limits.tokenMaxBytes + 1))[0]?.description).toMatch(/at most 512/);
    expect(check(`${"A".repeat(43)}+/=`)[0]?.description).toMatch(/base64url/);
  });

  it("refuses bad service names and versions", () => {
    const violations = checkRegisterToken({
      serviceName: "Billing API",
      serviceVersion: "v".repeat(65),
      token: goodToken,
    });
    expect(violations.map((v) => v.field)).toEqual(["service_name", "service_version"]);
  });
});

describe("checkValue", () => {
  it("limits values to 64 KiB of UTF-8 without NUL", () => {
    expect(checkValue("x".repeat(65_536))).toEqual([]);
    expect(checkValue("x".repeat(65_537))).toHaveLength(1);
    expect(checkValue("a\u0000b")).toHaveLength(1);
  });
});
