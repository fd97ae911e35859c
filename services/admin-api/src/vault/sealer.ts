/**
 * Seals secret values to the vault's public key before they go on the bus, so the bus never carries a
 * value in clear. The key is fetched once and cached; when the vault answers SEALING_KEY_UNKNOWN (it
 * rotated or was restored) the key is fetched again and the value resealed, once.
 */
import { adminOperations, isBusError, Reason } from "@secrets/bus";
import type { SealedValue } from "@secrets/proto/admin";
import { type SealingPublicKey, sealValue } from "@secrets/sealing";
import type { VaultClient } from "./vault-client.ts";

export interface Sealer {
  /**
   * Seals `plaintext` for the secret `name` and passes it to `send`; on SEALING_KEY_UNKNOWN refreshes the
   * key, reseals and sends again once.
   */
  withSealed<T>(plaintext: string, name: string, send: (sealed: SealedValue) => Promise<T>): Promise<T>;
}

export function createSealer(vault: Pick<VaultClient, "call">): Sealer {
  let cached: Promise<SealingPublicKey> | undefined;

  function fetchKey(): Promise<SealingPublicKey> {
    const pending = vault.call(adminOperations.sealingKey, {}).then((reply) => ({
      keyId: reply.keyId,
      publicKey: new Uint8Array(reply.publicKey),
    }));
    // A failed fetch is not cached: the next value tries again.
    pending.catch(() => {
      if (cached === pending) cached = undefined;
    });
    cached = pending;
    return pending;
  }

  const currentKey = () => cached ?? fetchKey();

  /** Fetches again unless another request already replaced the stale key. */
  async function refreshedKey(staleKeyId: string): Promise<SealingPublicKey> {
    const current = await currentKey().catch(() => undefined);
    return current && current.keyId !== staleKeyId ? current : fetchKey();
  }

  function seal(key: SealingPublicKey, plaintext: string, name: string): SealedValue {
    const sealed = sealValue(key, plaintext, name);
    return {
      keyId: sealed.keyId,
      ephemeralPublicKey: Buffer.from(sealed.ephemeralPublicKey),
      iv: Buffer.from(sealed.iv),
      ciphertext: Buffer.from(sealed.ciphertext),
    };
  }

  return {
    async withSealed(plaintext, name, send) {
      const key = await currentKey();
      try {
        return await send(seal(key, plaintext, name));
      } catch (error) {
        if (!isBusError(error) || error.reason !== Reason.SEALING_KEY_UNKNOWN) throw error;
        return send(seal(await refreshedKey(key.keyId), plaintext, name));
      }
    },
  };
}
