import { describe, expect, it } from "vitest";
import { checkSecretName, checkServiceName, clip, stripControlAndFormat, tokenFingerprint } from "./index.ts";

describe("stripControlAndFormat", () => {
  it.each([
    ["a C1 CSI (U+009B)", "grpc\u009B31mred", "grpc31mred"],
    ["a right-to-left override (U+202E)", "report\u202Egpj.exe", "reportgpj.exe"],
    ["a zero-width space (U+200B) and a BOM (U+FEFF)", "\uFEFFpay\u200Bments", "payments"],
    ["C0 controls and DEL", "a\u0000b\u001Bc\u007Fd", "abcd"],
    ["tab and newline by default", "one\ttwo\nthree", "onetwothree"],
  ])("removes %s", (_what, input, expected) => {
    expect(stripControlAndFormat(input)).toBe(expected);
  });

  it("keeps tab and newline when asked, and leaves other text alone", () => {
    expect(stripControlAndFormat("Stripe key\n\tfor payments\u202E", { keepLineBreaks: true })).toBe(
      "Stripe key\n\tfor payments",
    );
    expect(stripControlAndFormat("Clé de l'API 🔑 — ünïcode")).toBe("Clé de l'API 🔑 — ünïcode");
  });
});

describe("names refuse control and format characters", () => {
  it.each(["PAY\u202EMENTS", "PAY\u009BMENTS", "PAY\u200BMENTS"])("refuses the secret name %j", (name) => {
    expect(checkSecretName(name)).toHaveLength(1);
  });
  it.each(["pay\u202Ements", "pay\u009Bments"])("refuses the service name %j", (name) => {
    expect(checkServiceName(name)).toHaveLength(1);
  });
});

describe("tokenFingerprint", () => {
  it("is the first 8 hex characters of the token's SHA-256", () => {
    expect(tokenFingerprint("AB12CD34EF567890")).toBe("ab12cd34");
  });
});

describe("clip", () => {
  it("cuts at the limit and marks the cut only when something was cut", () => {
    expect(clip("abcdef", 3, "…")).toBe("abc…");
    expect(clip("abc", 3, "…")).toBe("abc");
    expect(clip("abcdef", 3)).toBe("abc");
    expect(clip("", 3)).toBe("");
  });
});
