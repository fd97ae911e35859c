import { createHash } from "node:crypto";

/** Hex SHA-256: the only form in which an admin token or a session id leaves this process. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
