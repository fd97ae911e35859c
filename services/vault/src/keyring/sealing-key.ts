/**
 * The vault's sealing key pair, `$SECRETS_DATA_DIR/sealing-key.json` (mode 0600): the admin API seals
 * secret values to its public key so the bus never carries them in clear (see @secrets/sealing). Vault
 * replicas that share the data directory share the pair, so any of them can open a sealed value.
 *
 *   { "formatVersion": 1, "keyId": "<hex>", "publicKey": "<base64>", "privateKey": "<base64>", "createdAt": <ms> }
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { generateSealingKeyPair, type SealingKeyPair, sealingKeyId } from "@secrets/sealing";
import { KeyFileError } from "./errors.ts";
import { type AtRest, readPrivate, writePrivate } from "./private-file.ts";

export const sealingKeyFileName = "sealing-key.json";

function serialize(pair: SealingKeyPair, createdAt: number): string {
  return `${JSON.stringify({
    formatVersion: 1,
    keyId: pair.keyId,
    publicKey: Buffer.from(pair.publicKey).toString("base64"),
    privateKey: Buffer.from(pair.privateKey).toString("base64"),
    createdAt,
  })}\n`;
}

function parse(text: string, path: string): SealingKeyPair {
  const malformed = () => new KeyFileError(path, `The sealing key file ${path} is malformed`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw malformed();
  }
  if (typeof data !== "object" || data === null) throw malformed();
  const { formatVersion, publicKey, privateKey } = data as Record<string, unknown>;
  if (formatVersion !== 1 || typeof publicKey !== "string" || typeof privateKey !== "string")
    throw malformed();
  const pub = new Uint8Array(Buffer.from(publicKey, "base64"));
  const priv = new Uint8Array(Buffer.from(privateKey, "base64"));
  if (pub.byteLength !== 32 || priv.byteLength !== 32) throw malformed();
  return { keyId: sealingKeyId(pub), publicKey: pub, privateKey: priv };
}

/** Loads the sealing key pair, creating it on first start (exclusively, so replicas agree on one). */
export async function loadOrCreateSealingKey(
  options: { dataDir: string; now?: () => number } & AtRest,
): Promise<SealingKeyPair> {
  const path = join(options.dataDir, sealingKeyFileName);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const atRest = { masterKey: options.masterKey, migratePlaintext: options.migratePlaintext };
  const existing = await readPrivate(path, "sealing key file", atRest);
  if (existing !== undefined) {
    const pair = parse(existing.text, path);
    // A master key configured after the file was written, with the migration flag: wrap it now.
    if (existing.plain) await writePrivate(path, existing.text, { replace: true, ...atRest });
    return pair;
  }
  const pair = generateSealingKeyPair();
  const created = serialize(pair, (options.now ?? Date.now)());
  if (await writePrivate(path, created, { replace: false, ...atRest })) return pair;
  const winner = await readPrivate(path, "sealing key file", atRest);
  if (winner === undefined)
    throw new KeyFileError(path, `The sealing key file ${path} vanished while starting`);
  return parse(winner.text, path);
}
