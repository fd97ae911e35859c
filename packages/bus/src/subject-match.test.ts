import { describe, expect, it } from "vitest";
import { absoluteStreamName, absoluteSubject, assertNamespace } from "./namespace.ts";
import { subjectMatches } from "./subject-match.ts";

describe("subjectMatches", () => {
  it.each([
    ["a.b.c", "a.b.c", true],
    ["a.*.c", "a.b.c", true],
    ["a.*", "a.b.c", false],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    ["a.b", "a.b.c", false],
    ["a.b.c", "a.b", false],
    ["*.b.>", "x.b.y.z", true],
  ])("%s against %s is %s", (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe("namespace", () => {
  it("builds subjects and stream names", () => {
    expect(absoluteSubject("secrets", "v1.vault.service.ping")).toBe("secrets.v1.vault.service.ping");
    expect(absoluteStreamName("secrets", "AUDIT")).toBe("SECRETS_AUDIT");
    expect(absoluteStreamName("ci-run_1", "AUDIT")).toBe("CI_RUN_1_AUDIT");
  });

  it("refuses a namespace that would break subjects", () => {
    for (const bad of ["", "a.b", "A", "x>", "with space", "1abc"]) {
      expect(() => assertNamespace(bad)).toThrow(/must match/);
    }
  });
});
