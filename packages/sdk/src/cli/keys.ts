/**
 * `secrets keys status` and `secrets keys rotate`: the vault's encryption-key rotation through the admin
 * API. Prints times and counts only; no key material or key id ever leaves the vault.
 */
import type { AdminClient } from "./admin-client.ts";
import type { CliIo } from "./io.ts";

export async function runKeys(io: CliIo, client: AdminClient, action: "status" | "rotate"): Promise<void> {
  if (action === "rotate") {
    const rotated = await client.rotateKey();
    io.stdout(`Rotated the encryption key at ${rotated.rotatedAt}; new values use it from now on.`);
    io.stdout(`${rotated.pendingRewrap} stored values are being re-encrypted under it in the background.`);
    return;
  }
  const status = await client.keyStatus();
  io.stdout(`Last rotation:    ${status.lastRotatedAt}`);
  io.stdout(`Next rotation:    ${status.nextRotationAt}`);
  io.stdout(`Re-encrypting:    ${status.pendingRewrap} values still under an older key`);
  io.stdout(`Keys in the file: ${status.keyCount}`);
}
