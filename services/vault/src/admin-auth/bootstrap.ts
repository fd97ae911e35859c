import type { Logger } from "@secrets/logger";
import { hashToken } from "../service-tokens/token-hash.ts";
import type { AdminAuthDal } from "./admin-auth-dal.ts";
import { isStrongAdminToken } from "./admin-tokens.ts";

/**
 * Stores `ADMIN_BOOTSTRAP_TOKEN` as the first admin token when no admin token exists; does nothing once
 * any exists, revoked ones included (so removing, changing or keeping the variable later has no effect,
 * and a revoked bootstrap token is never installed again). Returns whether it stored it.
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

export const bootstrapActiveMessage =
  "the bootstrap admin token is still active: create a named admin token and revoke the bootstrap one";

/**
 * Warns while the bootstrap token is active (it lives in an environment file, where it should not stay a
 * working admin credential), and when the environment still holds a token that was revoked. Returns
 * whether the bootstrap token is active.
 */
export async function warnAboutBootstrapToken(
  dal: Pick<AdminAuthDal, "findActiveBootstrapToken" | "findTokenByHash">,
  logger: Pick<Logger, "warn">,
  environmentToken: string | undefined,
): Promise<boolean> {
  const active = await dal.findActiveBootstrapToken();
  if (active) {
    logger.warn(bootstrapActiveMessage, {
      admin: active.name,
      createdAt: active.createdAt.toISOString(),
      fix: `bun run admin:token create --name <you>; bun run admin:token revoke --name ${active.name}; then remove ADMIN_BOOTSTRAP_TOKEN from the environment`,
    });
  }
  if (environmentToken !== undefined) {
    const row = await dal.findTokenByHash(hashToken(environmentToken));
    if (row && row.revokedAt !== null) {
      logger.warn(
        "ADMIN_BOOTSTRAP_TOKEN holds a revoked admin token, which is not installed again; remove it",
        {
          admin: row.name,
        },
      );
    }
  }
  return active !== undefined;
}

/** Warns now and every `intervalMs` while the bootstrap token stays active; `stop` ends the reminders. */
export function startBootstrapReminder(options: {
  dal: Pick<AdminAuthDal, "findActiveBootstrapToken" | "findTokenByHash">;
  logger: Pick<Logger, "warn">;
  environmentToken: string | undefined;
  intervalMs: number;
}): { first: Promise<boolean>; stop(): void } {
  const check = () => warnAboutBootstrapToken(options.dal, options.logger, options.environmentToken);
  const timer = setInterval(() => {
    // A failed check (database down) is not worth a log of its own: the next one tries again.
    void check().catch(() => {});
  }, options.intervalMs);
  timer.unref?.();
  return { first: check(), stop: () => clearInterval(timer) };
}
