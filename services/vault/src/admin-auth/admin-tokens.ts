import { randomBytes } from "node:crypto";

/** Admin tokens carry a prefix so that secret scanners and people can tell what they are. */
export const adminTokenPrefix = "ssadm_";

/** A new admin token: the prefix and 32 random bytes in base64url. */
export function generateAdminToken(): string {
  return `${adminTokenPrefix}${randomBytes(32).toString("base64url")}`;
}

/** At least 32 random bytes: 43 base64url characters, with or without the prefix. */
export function isStrongAdminToken(token: string): boolean {
  const body = token.startsWith(adminTokenPrefix) ? token.slice(adminTokenPrefix.length) : token;
  return body.length >= 43 && /^[A-Za-z0-9_-]+$/.test(body);
}
