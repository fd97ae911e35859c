import { describe, expect, it } from "vitest";
import { ReplyKeyPair, ReplySealer, SealingError, sealedReplyContext } from "./index.ts";

const context = sealedReplyContext("DB_URL", "req-1");

describe("sealed replies", () => {
  it("open with the key pair they were sealed to, and hold no plaintext", () => {
    const sealer = new ReplySealer();
    const gateway = new ReplyKeyPair();
    const sealed = sealer.seal(gateway.publicKey, "postgres://orders:s3cret@db/orders", context);
    expect(Buffer.concat([sealed.vaultKey, sealed.iv, sealed.ciphertext]).toString("latin1")).not.toContain(
      "s3cret",
    );
    expect(gateway.open(sealed, context)).toBe("postgres://orders:s3cret@db/orders");
    // Every reply gets its own IV, and the key agreement is done once per pair of keys.
    const again = sealer.seal(gateway.publicKey, "postgres://orders:s3cret@db/orders", context);
    expect(Buffer.from(again.iv).equals(Buffer.from(sealed.iv))).toBe(false);
    expect(gateway.open(again, context)).toBe("postgres://orders:s3cret@db/orders");
  });

  it("do not open for another gateway, another secret or request, or altered bytes", () => {
    const sealer = new ReplySealer();
    const gateway = new ReplyKeyPair();
    const sealed = sealer.seal(gateway.publicKey, "value", context);
    expect(() => new ReplyKeyPair().open(sealed, context)).toThrow(SealingError);
    expect(() => gateway.open(sealed, sealedReplyContext("OTHER", "req-1"))).toThrow(SealingError);
    expect(() => gateway.open(sealed, sealedReplyContext("DB_URL", "req-2"))).toThrow(SealingError);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => gateway.open({ ...sealed, ciphertext: flipped }, context)).toThrow(SealingError);
    expect(() => gateway.open({ ...sealed, vaultKey: new ReplyKeyPair().publicKey }, context)).toThrow(
      SealingError,
    );
    expect(() => gateway.open({ ...sealed, iv: new Uint8Array(3) }, context)).toThrow(SealingError);
  });

  it("refuses a reply key that is not 32 bytes", () => {
    expect(() => new ReplySealer().seal(new Uint8Array(31), "value", context)).toThrow(SealingError);
  });
});
