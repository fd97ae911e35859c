/** X25519 keys as raw bytes and as node:crypto key objects, and the error every sealing failure throws. */
import { createPublicKey, type KeyObject } from "node:crypto";

/** Thrown when a sealed value cannot be opened: wrong key, wrong context, or altered bytes. */
export class SealingError extends Error {
  override readonly name = "SealingError";
}

export const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** An X25519 public key from its 32 raw bytes; SealingError for anything else. */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) throw new SealingError("A sealing public key is 32 bytes");
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: b64url(raw) }, format: "jwk" });
}

export function rawPublicKey(key: KeyObject): Uint8Array {
  const x = key.export({ format: "jwk" }).x;
  if (!x) throw new SealingError("Not an X25519 key");
  return new Uint8Array(Buffer.from(x, "base64url"));
}
