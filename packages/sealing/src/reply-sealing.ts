/**
 * Sealed replies: the vault's answer to a gateway's GetSecret, readable by the gateway process that asked
 * and nobody else on the bus (a NATS monitor, another gateway replica sharing its credentials).
 *
 * Each gateway process has an X25519 key pair (`ReplyKeyPair`, renewed regularly) and sends its public key
 * with every request; each vault process has one too (`ReplySealer`). Both ends derive the same AES-256-GCM
 * key (X25519, then HKDF-SHA256 salted with both public keys) once per pair of keys and keep it, so a reply
 * costs one AES-GCM operation on each side, not a key agreement. The AAD binds the secret's name and the
 * request id: a sealed value cannot be passed off as another secret's or another call's.
 */
import { diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from "node:crypto";
import {
  aesGcmOpen,
  aesGcmSeal,
  isAesGcmShaped,
  publicKeyObject,
  rawPublicKey,
  SealingError,
} from "./primitives.ts";

/** As the vault sends it (Buffers, as the generated bus messages hold bytes). */
export interface SealedReply {
  /** The vault process's X25519 public key, 32 raw bytes. */
  vaultKey: Buffer;
  iv: Buffer;
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Buffer;
}

/** As the gateway receives it. */
export type ReceivedSealedReply = { [K in keyof SealedReply]: Uint8Array };

/** What a sealed reply is bound to: the secret's name and the request id. */
export const sealedReplyContext = (secretName: string, requestId: string) =>
  `${secretName}\u0000${requestId}`;

/** An X25519 public key is 32 bytes. */
export const replyKeyLength = 32;
const info = Buffer.from("secrets.v1 sealed reply");
/** Derived keys kept per process: far more than the peers a process has at once. */
const maxCachedKeys = 1_024;

function deriveReplyKey(
  privateKey: KeyObject,
  peerPublic: Uint8Array,
  vaultPublic: Uint8Array,
  gatewayPublic: Uint8Array,
): Buffer {
  const shared = diffieHellman({ privateKey, publicKey: publicKeyObject(peerPublic) });
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([vaultPublic, gatewayPublic]), info, 32));
}

/** A bounded map of derived keys by the peer's public key. */
class DerivedKeys {
  private readonly keys = new Map<string, Buffer>();

  get(peer: Uint8Array, derive: () => Buffer): Buffer {
    const id = Buffer.from(peer).toString("base64");
    let key = this.keys.get(id);
    if (!key) {
      key = derive();
      if (this.keys.size >= maxCachedKeys) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) this.keys.delete(oldest);
      }
      this.keys.set(id, key);
    }
    return key;
  }
}

function newKeyPair(): { privateKey: KeyObject; publicKey: Buffer } {
  const pair = generateKeyPairSync("x25519");
  return { privateKey: pair.privateKey, publicKey: Buffer.from(rawPublicKey(pair.publicKey)) };
}

/** The vault's side: seals values to the reply keys of the requests. */
export class ReplySealer {
  private readonly own = newKeyPair();
  private readonly derived = new DerivedKeys();

  /** Seals `plaintext` to `replyKey` (a request's), bound to `context`; SealingError for a bad key. */
  seal(replyKey: Uint8Array, plaintext: string, context: string): SealedReply {
    if (replyKey.byteLength !== replyKeyLength) throw new SealingError("A reply key is 32 bytes");
    const key = this.derived.get(replyKey, () =>
      deriveReplyKey(this.own.privateKey, replyKey, this.own.publicKey, replyKey),
    );
    const { iv, ciphertext } = aesGcmSeal(key, plaintext, Buffer.from(context, "utf8"));
    return { vaultKey: this.own.publicKey, iv, ciphertext };
  }
}

/** The gateway's side: one key pair, sent with requests, that opens what the vaults seal to it. */
export class ReplyKeyPair {
  private readonly own = newKeyPair();
  private readonly derived = new DerivedKeys();

  /** The public key to send as a request's `reply_key`. */
  get publicKey(): Buffer {
    return this.own.publicKey;
  }

  /** Opens a reply sealed to this key pair; SealingError if anything does not match. */
  open(sealed: ReceivedSealedReply, context: string): string {
    return openSealedReply(this, sealed, context);
  }

  /** @internal The AES key shared with the vault that holds `vaultKey`. */
  keyFor(vaultKey: Uint8Array): Buffer {
    return this.derived.get(vaultKey, () =>
      deriveReplyKey(this.own.privateKey, vaultKey, vaultKey, this.own.publicKey),
    );
  }
}

export function openSealedReply(keys: ReplyKeyPair, sealed: ReceivedSealedReply, context: string): string {
  if (sealed.vaultKey.byteLength !== replyKeyLength || !isAesGcmShaped(sealed.iv, sealed.ciphertext)) {
    throw new SealingError("The sealed reply is malformed");
  }
  try {
    return aesGcmOpen(
      keys.keyFor(sealed.vaultKey),
      sealed.iv,
      sealed.ciphertext,
      Buffer.from(context, "utf8"),
    );
  } catch (cause) {
    throw new SealingError("The sealed reply could not be opened", { cause });
  }
}
