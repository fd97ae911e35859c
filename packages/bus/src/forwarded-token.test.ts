import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { forwardedTokenHash, forwardToken } from "./forwarded-token.ts";

describe("forwardToken", () => {
  it("carries the token's hex SHA-256, never the token, in a form shaped like a token", () => {
    const token = "A".repeat(43);
    const forwarded = forwardToken(token);
    const hash = createHash("sha256").update(token).digest("hex");
    expect(forwarded).toBe(`sha256_${hash}`);
    expect(forwarded).not.toContain(token);
    expect(forwarded).toMatch(/^[A-Za-z0-9_-]{71}$/);
    expect(forwardedTokenHash(forwarded)).toBe(hash);
  });

  it("tells a forwarded token from one passed as it is", () => {
    expect(forwardedTokenHash("A".repeat(43))).toBeUndefined();
    expect(forwardedTokenHash(`sha256_${"0".repeat(63)}`)).toBeUndefined();
    expect(forwardedTokenHash(`sha256_${"F".repeat(64)}`)).toBeUndefined();
    // A client presenting a forwarded-looking token is hashed again by the gateway: it proves nothing.
    expect(forwardedTokenHash(forwardToken(forwardToken("x")))).not.toBe(
      forwardedTokenHash(forwardToken("x")),
    );
  });
});
