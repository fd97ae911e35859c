/**
 * Sealed values: the admin API encrypts a secret value to the vault's X25519 public key before it goes on
 * the bus, so that nothing on the bus (a monitor, a compromised subscriber, a NATS log) sees it in clear.
 *
 * Scheme (an ECIES): a one-time X25519 key pair per value; HKDF-SHA256 of the shared secret, salted with
 * both public keys, gives an AES-256-GCM key; the AAD binds the recipient key id and a context string (the
 * secret's name), so a sealed value cannot be replayed for another secret.
 *
 * `node:crypto` rather than Web Crypto: X25519 and HKDF are synchronous there and fast under Bun.
 */
import { createHash, createPrivateKey, diffieHellman, generateKeyPairSync, hkdfSync } from "node:crypto";

import {
  aesGcmOpen,
  aesGcmSeal,
  b64url,
  isAesGcmShaped,
  publicKeyObject,
  rawPublicKey,
  SealingError,
} from "./primitives.ts";

export { SealingError } from "./primitives.ts";

export interface SealedValue {
  keyId: string;
  /** The sender's one-time X25519 public key, 32 raw bytes. */
  ephemeralPublicKey: Uint8Array;
  iv: Uint8Array;
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Uint8Array;
}

export interface SealingPublicKey {
  keyId: string;
  /** X25519 public key, 32 raw bytes. */
  publicKey: Uint8Array;
}

export interface SealingKeyPair extends SealingPublicKey {
  /** X25519 private key, 32 raw bytes. Only the vault holds it. */
  privateKey: Uint8Array;
}

const info = Buffer.from("secrets.v1 sealed value");

/** The key id: the first 16 hex characters of the public key's SHA-256. */
export function sealingKeyId(publicKey: Uint8Array): string {
  return createHash("sha256").update(publicKey).digest("hex").slice(0, 16);
}

export function generateSealingKeyPair(): SealingKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const d = privateKey.export({ format: "jwk" }).d;
  if (!d) throw new SealingError("X25519 key generation returned no private key");
  const rawPublic = rawPublicKey(publicKey);
  return {
    keyId: sealingKeyId(rawPublic),
    publicKey: rawPublic,
    privateKey: new Uint8Array(Buffer.from(d, "base64url")),
  };
}

function deriveKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Buffer {
  const salt = Buffer.concat([ephemeral, recipient]);
  return Buffer.from(hkdfSync("sha256", shared, salt, info, 32));
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`${keyId}\u0000${context}`, "utf8");
}

/** Seals `plaintext` to the recipient's public key; `context` (the secret's name) must match on opening. */
export function sealValue(recipient: SealingPublicKey, plaintext: string, context: string): SealedValue {
  const ephemeral = generateKeyPairSync("x25519");
  const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: publicKeyObject(recipient.publicKey),
  });
  const key = deriveKey(shared, ephemeralPublic, recipient.publicKey);
  const { iv, ciphertext } = aesGcmSeal(key, plaintext, aad(recipient.keyId, context));
  return { keyId: recipient.keyId, ephemeralPublicKey: ephemeralPublic, iv, ciphertext };
}

/** Opens a sealed value with the recipient's key pair; throws SealingError if anything does not match. */
export function openSealedValue(recipient: SealingKeyPair, sealed: SealedValue, context: string): string {
  if (sealed.keyId !== recipient.keyId) throw new SealingError("The value was sealed to another key");
  if (!isAesGcmShaped(sealed.iv, sealed.ciphertext)) {
    throw new SealingError("The sealed value is malformed");
  }
  try {
    const privateKey = createPrivateKey({
      key: { kty: "OKP", crv: "X25519", d: b64url(recipient.privateKey), x: b64url(recipient.publicKey) },
      format: "jwk",
    });
    const shared = diffieHellman({ privateKey, publicKey: publicKeyObject(sealed.ephemeralPublicKey) });
    const key = deriveKey(shared, sealed.ephemeralPublicKey, recipient.publicKey);
    return aesGcmOpen(key, sealed.iv, sealed.ciphertext, aad(recipient.keyId, context));
  } catch (cause) {
    throw new SealingError("The sealed value could not be opened", { cause });
  }
}

export {
  openSealedReply,
  type ReceivedSealedReply,
  ReplyKeyPair,
  ReplySealer,
  replyKeyLength,
  type SealedReply,
  sealedReplyContext,
} from "./reply-sealing.ts";
