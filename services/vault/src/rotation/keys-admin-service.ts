import { AuditEventName } from "@secrets/bus";
import type { Admin } from "../admin/admin-context.ts";
import type { AdminAudit } from "../audit/admin-audit.ts";
import type { Keyring } from "../keyring/index.ts";
import type { KeyRotation } from "./key-rotation.ts";

/** The admin's view of key rotation: rotate now, and how far the rewrap has come. Never a key id. */
export function createKeysAdminService(deps: {
  rotation: KeyRotation;
  keyring: Pick<Keyring, "lastRotatedAt" | "keyIds" | "refresh">;
  audit: Pick<AdminAudit, "read">;
  rotationIntervalMs: number;
}) {
  return {
    async rotate(admin: Admin) {
      const { rotatedAtMs } = await deps.rotation.rotate(admin);
      deps.rotation.nudge();
      return { rotatedAtMs, pendingRewrap: await deps.rotation.pending() };
    },

    status(admin: Admin) {
      return deps.audit.read({ ...admin, event: AuditEventName.keyStatus }, async () => {
        await deps.keyring.refresh();
        return {
          lastRotatedAtMs: deps.keyring.lastRotatedAt,
          nextRotationAtMs: deps.keyring.lastRotatedAt + deps.rotationIntervalMs,
          pendingRewrap: await deps.rotation.pending(),
          keyCount: deps.keyring.keyIds().length,
        };
      });
    },
  };
}

export type KeysAdminService = ReturnType<typeof createKeysAdminService>;
