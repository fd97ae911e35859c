/**
 * Approved token keys: what a gateway knows of the approved service tokens. A key is the first
 * `approvedTokenKeyLength` bytes of SHA-256 over a fixed label and the token's hex SHA-256, so a gateway
 * computes it from the token a call presents, and a key list leaked from a gateway gives nobody a token or
 * the token hash that stands for one on the bus. Four bytes keep 100,000 keys in one NATS message; a random
 * token matches one of N keys with odds N / 2^32, and all such a match earns is the address budget skipped.
 */
import { createHash } from "node:crypto";

export const approvedTokenKeyLength = 4;

/** Most keys one reply carries (400 KB, well under NATS's default 1 MiB message). */
export const maxApprovedTokenKeys = 100_000;

const label = "secrets.v1.approved-token-key:";

/** The key of the token whose hex SHA-256 is `tokenHashHex`, as an unsigned 32-bit number. */
export function approvedTokenKey(tokenHashHex: string): number {
  return createHash("sha256").update(label).update(tokenHashHex).digest().readUInt32BE(0);
}

/** Keys packed for `VaultApprovedTokenKeysReply.keys`. */
export function packApprovedTokenKeys(keys: readonly number[]): Uint8Array {
  const packed = Buffer.alloc(keys.length * approvedTokenKeyLength);
  keys.forEach((key, index) => {
    packed.writeUInt32BE(key >>> 0, index * approvedTokenKeyLength);
  });
  return packed;
}

/** The keys of a `VaultApprovedTokenKeysReply.keys`; a trailing partial key is ignored. */
export function unpackApprovedTokenKeys(packed: Uint8Array): number[] {
  const view = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const keys: number[] = [];
  for (let at = 0; at + approvedTokenKeyLength <= view.byteLength; at += approvedTokenKeyLength)
    keys.push(view.readUInt32BE(at));
  return keys;
}
