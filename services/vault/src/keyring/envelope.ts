/**
 * The ciphertext envelope stored in `secrets.value_encrypted` and `secret_versions.value_encrypted`:
 *
 *   byte 0       format version (2; 1 is the legacy form)
 *   bytes 1-4    key id, uint32 big-endian
 *   bytes 5-16   random 12-byte IV, fresh for every encryption
 *   bytes 17-n   AES-256-GCM ciphertext
 *   last 16      GCM authentication tag
 *
 * The additional authenticated data is the 5 header bytes, the value's version (uint32 big-endian), then
 * the UTF-8 of the secret's id: an envelope cannot be moved to another row, put back as another version of
 * its secret, nor its format or key id edited, without failing to decrypt.
 *
 * Format 1 (legacy) bound only the secret's id. It is opened only under a key that says it accepts it (keys
 * created before format 2 existed); the rewrap moves such rows to format 2 under a new key, and retiring
 * the old keys ends their acceptance.
 *
 * `node:crypto` rather than Web Crypto: under Bun its synchronous AES-GCM is an order of magnitude faster
 * than awaited `crypto.subtle` calls, and this runs on every secret read.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from "node:crypto";
import { DecryptionError } from "./errors.ts";

export const envelopeVersion = 2;
/** Bound the secret's id but not the value's version; only opened under keys that predate format 2. */
export const legacyEnvelopeVersion = 1;
const headerLength = 5;
const ivLength = 12;
const tagLength = 16;
const minimumLength = headerLength + ivLength + tagLength;
const algorithm = "aes-256-gcm";

/** Which value an envelope belongs to: it opens only for the same secret and version. */
export interface ValueRef {
  secretId: string;
  /** The value's version (`secrets.version`, `secret_versions.version`), a positive integer. */
  version: number;
}

/** The key an envelope names, and whether it accepts the legacy format. */
export interface EnvelopeKey {
  key: KeyObject;
  acceptsLegacy: boolean;
}

function header(keyId: number, format = envelopeVersion): Uint8Array {
  const bytes = new Uint8Array(headerLength);
  bytes[0] = format;
  new DataView(bytes.buffer).setUint32(1, keyId, false);
  return bytes;
}

function additionalData(headerBytes: Uint8Array, ref: ValueRef): Uint8Array {
  const id = new TextEncoder().encode(ref.secretId);
  // Fixed-width fields before the id, so no two (version, id) pairs give the same bytes.
  const bound = headerBytes[0] === legacyEnvelopeVersion ? 0 : 4;
  const aad = new Uint8Array(headerBytes.length + bound + id.length);
  aad.set(headerBytes, 0);
  if (bound) new DataView(aad.buffer).setUint32(headerBytes.length, ref.version, false);
  aad.set(id, headerBytes.length + bound);
  return aad;
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) {
    throw new RangeError(`A value's version must be a positive 32-bit integer, not ${version}`);
  }
}

/**
 * Encrypts `plaintext` as the value `ref` under `key`, whose id is `keyId`. `format` exists for tests
 * that need a legacy envelope; the vault always writes the current format.
 */
export function seal(
  key: KeyObject,
  keyId: number,
  plaintext: Uint8Array,
  ref: ValueRef,
  format: typeof envelopeVersion | typeof legacyEnvelopeVersion = envelopeVersion,
): Uint8Array {
  checkVersion(ref.version);
  const headerBytes = header(keyId, format);
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagLength });
  cipher.setAAD(additionalData(headerBytes, ref));
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
  if (envelope[0] !== envelopeVersion && envelope[0] !== legacyEnvelopeVersion) {
    throw new DecryptionError(
      "unsupported-version",
      `${subject(secretId)} has unsupported format version ${envelope[0]}`,
    );
  }
  return new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength).getUint32(1, false);
}

/** The envelope's format version (1 legacy, 2 current); throws DecryptionError on a malformed header. */
export function readFormat(envelope: Uint8Array): number {
  readKeyId(envelope);
  return envelope[0] ?? 0;
}

/** Decrypts the envelope of the value `ref`; `keyFor` returns the key with a given id, if any. */
export function open(
  keyFor: (keyId: number) => EnvelopeKey | undefined,
  envelope: Uint8Array,
  ref: ValueRef,
): Uint8Array {
  const { secretId } = ref;
  const keyId = readKeyId(envelope, secretId);
  const found = keyFor(keyId);
  if (!found) {
    throw new DecryptionError(
      "unknown-key",
      `${subject(secretId)} is under key ${keyId}, which is not in the key file`,
    );
  }
  if (envelope[0] === legacyEnvelopeVersion && !found.acceptsLegacy) {
    // Nothing writes format 1 under a key created since format 2: such an envelope was put there.
    throw new DecryptionError(
      "unsupported-version",
      `${subject(secretId)} is in legacy format 1, which key ${keyId} does not accept`,
    );
  }
  const { key } = found;
  const headerBytes = envelope.subarray(0, headerLength);
  const iv = envelope.subarray(headerLength, headerLength + ivLength);
  const body = envelope.subarray(headerLength + ivLength, envelope.length - tagLength);
  const tag = envelope.subarray(envelope.length - tagLength);
  try {
    const decipher = createDecipheriv(algorithm, key, iv, { authTagLength: tagLength });
    decipher.setAAD(additionalData(headerBytes, ref));
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
      `${subject(secretId)} failed authentication: it was altered, or belongs to another secret or version`,
      { cause: error },
    );
  }
}
