/** Encryption-key rotation over the bus: rotate now, and its status. No key id ever leaves the vault. */
import { adminOperations } from "@secrets/bus";
import type { AdminContext } from "@secrets/proto/admin";
import { iso } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type { KeyStatus, RotationStarted } from "./model.ts";

export function createKeysService(deps: { vault: VaultClient }) {
  return {
    async rotate(admin: AdminContext): Promise<RotationStarted> {
      const reply = await deps.vault.call(adminOperations.rotateKey, { admin });
      return { rotatedAt: iso(reply.rotatedAtMs), pendingRewrap: reply.pendingRewrap };
    },
    async status(admin: AdminContext): Promise<KeyStatus> {
      const reply = await deps.vault.call(adminOperations.keyStatus, { admin });
      return {
        lastRotatedAt: iso(reply.lastRotatedAtMs),
        nextRotationAt: iso(reply.nextRotationAtMs),
        pendingRewrap: reply.pendingRewrap,
        keyCount: reply.keyCount,
      };
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
