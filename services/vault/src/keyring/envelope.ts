/**
 * The ciphertext envelope stored in `secrets.value_encrypted`:
 *
 *   byte 0       format version (1)
 *   bytes 1-4    key id, uint32 big-endian
 *   bytes 5-16   random 12-byte IV, fresh for every encryption
 *   bytes 17-n   AES-256-GCM ciphertext
 *   last 16      GCM authentication tag
 *
 * The additional authenticated data is the 5 header bytes followed by the UTF-8 of the secret's id, so an
 * envelope cannot be moved to another row, nor its version or key id edited, without failing to decrypt.
 *
 * `node:crypto` rather than Web Crypto: under Bun its synchronous AES-GCM is an order of magnitude faster
 * than awaited `crypto.subtle` calls, and this runs on every secret read.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from "node:crypto";
import { DecryptionError } from "./errors.ts";

export const envelopeVersion = 1;
const headerLength = 5;
const ivLength = 12;
const tagLength = 16;
const minimumLength = headerLength + ivLength + tagLength;
const algorithm = "aes-256-gcm";

function header(keyId: number): Uint8Array {
  const bytes = new Uint8Array(headerLength);
  bytes[0] = envelopeVersion;
  new DataView(bytes.buffer).setUint32(1, keyId, false);
  return bytes;
}

function additionalData(headerBytes: Uint8Array, secretId: string): Uint8Array {
  const id = new TextEncoder().encode(secretId);
  const aad = new Uint8Array(headerBytes.length + id.length);
  aad.set(headerBytes, 0);
  aad.set(id, headerBytes.length);
  return aad;
}

/** Encrypts `plaintext` for the secret `secretId` under `key`, whose id is `keyId`. */
export function seal(key: KeyObject, keyId: number, plaintext: Uint8Array, secretId: string): Uint8Array {
  const headerBytes = header(keyId);
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagLength });
  cipher.setAAD(additionalData(headerBytes, secretId));
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();
  // A fresh array, not Buffer.concat: small Buffers share a pooled ArrayBuffer with unrelated data.
  const envelope = new Uint8Array(minimumLength + body.length + tail.length);
  envelope.set(headerBytes, 0);
  envelope.set(iv, headerLength);
  envelope.set(body, headerLength + ivLength);
  envelope.set(tail, headerLength + ivLength + body.length);
  envelope.set(tag, envelope.length - tagLength);
  return envelope;
}

const subject = (secretId: string | undefined) =>
  secretId === undefined ? "The encrypted value" : `The encrypted value of secret "${secretId}"`;

/** The key id in an envelope's header; throws DecryptionError if the header is not one we wrote. */
export function readKeyId(envelope: Uint8Array, secretId?: string): number {
  if (envelope.length < minimumLength) {
    throw new DecryptionError("truncated", `${subject(secretId)} is truncated`);
  }
  if (envelope[0] !== envelopeVersion) {
    throw new DecryptionError(
      "unsupported-version",
      `${subject(secretId)} has unsupported format version ${envelope[0]}`,
    );
  }
  return new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength).getUint32(1, false);
}

/** Decrypts an envelope of the secret `secretId`; `keyFor` returns the key with a given id, if any. */
export function open(
  keyFor: (keyId: number) => KeyObject | undefined,
  envelope: Uint8Array,
  secretId: string,
): Uint8Array {
  const keyId = readKeyId(envelope, secretId);
  const key = keyFor(keyId);
  if (!key) {
    throw new DecryptionError(
      "unknown-key",
      `${subject(secretId)} is under key ${keyId}, which is not in the key file`,
    );
  }
  const headerBytes = envelope.subarray(0, headerLength);
  const iv = envelope.subarray(headerLength, headerLength + ivLength);
  const body = envelope.subarray(headerLength + ivLength, envelope.length - tagLength);
  const tag = envelope.subarray(envelope.length - tagLength);
  try {
    const decipher = createDecipheriv(algorithm, key, iv, { authTagLength: tagLength });
    decipher.setAAD(additionalData(headerBytes, secretId));
    decipher.setAuthTag(tag);
    const head = decipher.update(body);
    const tail = decipher.final();
    const plaintext = new Uint8Array(head.length + tail.length);
    plaintext.set(head, 0);
    plaintext.set(tail, head.length);
    return plaintext;
  } catch (error) {
    // The crypto error names neither key nor plaintext; it is kept as the cause for diagnosis.
    throw new DecryptionError(
      "authentication",
      `${subject(secretId)} failed authentication: it was altered, or belongs to another secret`,
      { cause: error },
    );
  }
}
