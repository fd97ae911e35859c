/**
 * The primitives both schemes share: X25519 keys as raw bytes and as node:crypto key objects, AES-256-GCM
 * with the tag after the ciphertext, and the error every sealing failure throws.
 */
import { createCipheriv, createDecipheriv, createPublicKey, type KeyObject, randomBytes } from "node:crypto";

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

const tagLength = 16;
/** AES-GCM's IV length. */
export const ivLength = 12;

/** AES-256-GCM under `key` with a fresh IV: the IV, and the ciphertext followed by its 16-byte tag. */
export function aesGcmSeal(key: Buffer, plaintext: string, aad: Buffer): { iv: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  return {
    iv,
    ciphertext: Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]),
  };
}

/** Whether `iv` and `body` have the shapes `aesGcmSeal` makes. */
export const isAesGcmShaped = (iv: Uint8Array, body: Uint8Array) =>
  iv.byteLength === ivLength && body.byteLength >= tagLength;

/** The UTF-8 text `aesGcmSeal` sealed; throws (node:crypto's error) when anything does not match. */
export function aesGcmOpen(key: Buffer, iv: Uint8Array, body: Uint8Array, aad: Buffer): string {
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(body.subarray(body.byteLength - tagLength));
  const plain = Buffer.concat([
    decipher.update(body.subarray(0, body.byteLength - tagLength)),
    decipher.final(),
  ]);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}
