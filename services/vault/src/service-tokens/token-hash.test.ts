import { forwardToken } from "@secrets/bus";
import { describe, expect, it } from "vitest";
import { hashesMatch, hashToken, presentedTokenHash } from "./token-hash.ts";

describe("token hashes", () => {
  const token = "A".repeat(43);

  it("reads the same hash from a token forwarded by the gateway and from the token itself", () => {
    expect(presentedTokenHash(forwardToken(token))).toBe(hashToken(token));
    expect(presentedTokenHash(token)).toBe(hashToken(token));
  });

  it("compares hashes in constant time, refusing any difference, length or emptiness", () => {
    const hash = hashToken(token);
    const flipped = (at: number) => hash.slice(0, at) + (hash[at] === "0" ? "1" : "0") + hash.slice(at + 1);
    expect(hashesMatch(hash, hashToken(token))).toBe(true);
    expect(hashesMatch(hash, flipped(0))).toBe(false);
    expect(hashesMatch(hash, flipped(63))).toBe(false);
    expect(hashesMatch(hash, hash.slice(0, 62))).toBe(false);
    expect(hashesMatch("", "")).toBe(false);
  });
});
