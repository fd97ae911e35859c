import { createHash } from "node:crypto";

/** Marks a service token forwarded as its hash; within the token alphabet (base64url). */
export const forwardedTokenPrefix = "sha256_";

const forwardedPattern = /^sha256_([0-9a-f]{64})$/;

/**
 * A service token as the gateway forwards it to the vault: `sha256_` and the token's hex SHA-256. The
 * vault stores and compares only that hash, so it needs nothing more, and no service token crosses the
 * bus: a request seen on the wire does not let anyone call the gateway. The forwarded form is itself
 * shaped like a token (71 base64url characters), so the vault's checks of a presented or new token pass.
 *
 * @example forwardToken(token) // "sha256_9f86d08…"
 */
export function forwardToken(token: string): string {
  return `${forwardedTokenPrefix}${createHash("sha256").update(token, "utf8").digest("hex")}`;
}

/** The hex SHA-256 a forwarded token carries; undefined for a token passed as it is. */
export function forwardedTokenHash(presented: string): string | undefined {
  return forwardedPattern.exec(presented)?.[1];
}
