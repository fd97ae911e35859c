import { hashToken } from "../service-tokens/token-hash.ts";
import type { AdminAuthDal } from "./admin-auth-dal.ts";
import { isStrongAdminToken } from "./admin-tokens.ts";

/**
 * Stores `ADMIN_BOOTSTRAP_TOKEN` as the first admin token when no admin token exists; does nothing once
 * any exists (so removing or changing the variable later has no effect). Returns whether it stored it.
 */
export async function bootstrapAdminToken(
  dal: Pick<AdminAuthDal, "insertFirstToken">,
  bootstrap: { token: string; name: string },
): Promise<boolean> {
  if (!isStrongAdminToken(bootstrap.token)) {
    throw new Error("ADMIN_BOOTSTRAP_TOKEN must be at least 32 random bytes in base64url (43 characters)");
  }
  return dal.insertFirstToken({
    id: Bun.randomUUIDv7(),
    name: bootstrap.name,
    tokenHash: hashToken(bootstrap.token),
  });
}
