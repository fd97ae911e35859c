/**
 * Signed digests: at intervals the audit service writes an "audit.digest" line stating the range of
 * positions since its previous digest (`first_seq`..`last_seq`) and the chain's hash at `last_seq`
 * (`last_hash`), signed with its Ed25519 key over the line without `signature`.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

export const digestEventName = "audit.digest";

/** The bytes a digest's signature covers: its line's JSON without `signature`. */
export function digestSignedBytes(record: Record<string, unknown>): Buffer {
  const { signature: _signature, ...rest } = record;
  return Buffer.from(JSON.stringify(rest));
}

/** Signs a digest record (without `signature`); returns the signature, base64. */
export function signDigest(record: Record<string, unknown>, privateKey: KeyObject): string {
  return sign(null, digestSignedBytes(record), privateKey).toString("base64");
}

/** True when the record's `signature` is a valid Ed25519 signature by `publicKey`. */
export function digestSignatureValid(record: Record<string, unknown>, publicKey: KeyObject): boolean {
  if (typeof record.signature !== "string") return false;
  try {
    return verify(null, digestSignedBytes(record), publicKey, Buffer.from(record.signature, "base64"));
  } catch {
    return false;
  }
}

/** Reads an Ed25519 public key (PEM, as in `audit-signing.pub`). */
export function parsePublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("the audit signing key must be Ed25519");
  return key;
}

export function parsePrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("the audit signing key must be Ed25519");
  return key;
}
