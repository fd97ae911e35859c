import { createHash, timingSafeEqual } from "node:crypto";
import { forwardedTokenHash } from "@secrets/bus";

/** Hex SHA-256 of a token: the only form in which a token is stored or compared. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The hex SHA-256 of a presented service token: the one a gateway forwarded in its place (`forwardToken`),
 * or computed from a token passed as it is.
 */
export function presentedTokenHash(presented: string): string {
  return forwardedTokenHash(presented) ?? hashToken(presented);
}

/**
 * Compares two hex hashes in constant time. The lookup by hash finds the row; this comparison makes sure
 * the row's hash is the presented one without a timing signal of how much of it matched.
 */
export function hashesMatch(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, "hex");
  const actual = Buffer.from(actualHex, "hex");
  return expected.length === actual.length && expected.length > 0 && timingSafeEqual(expected, actual);
}
