import { describe, expect, it } from "vitest";
import {
  generateSealingKeyPair,
  openSealedValue,
  type SealedValue,
  SealingError,
  sealValue,
} from "./index.ts";

describe("sealed values", () => {
  const vault = generateSealingKeyPair();

  it("round-trips a value, Unicode included, without the plaintext in the sealed bytes", () => {
    const value = "postgres://app:pä$$wörd@db/prod 🔑";
    const sealed = sealValue(vault, value, "DATABASE_URL");
    expect(Buffer.from(sealed.ciphertext).includes(Buffer.from("wörd"))).toBe(false);
    expect(openSealedValue(vault, sealed, "DATABASE_URL")).toBe(value);
  });

  it("uses a fresh ephemeral key and IV each time", () => {
    const a = sealValue(vault, "same", "X");
    const b = sealValue(vault, "same", "X");
    expect(Buffer.from(a.ephemeralPublicKey).equals(Buffer.from(b.ephemeralPublicKey))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
  });

  it("refuses another context, another key, and altered bytes", () => {
    const sealed = sealValue(vault, "v", "STRIPE_KEY");
    expect(() => openSealedValue(vault, sealed, "OTHER_KEY")).toThrow(SealingError);
    const other = generateSealingKeyPair();
    expect(() => openSealedValue(other, sealed, "STRIPE_KEY")).toThrow(/another key/);
    expect(() => openSealedValue(other, { ...sealed, keyId: other.keyId }, "STRIPE_KEY")).toThrow(
      SealingError,
    );
    const fields: (keyof SealedValue)[] = ["ephemeralPublicKey", "iv", "ciphertext"];
    for (const field of fields) {
      const bytes = Buffer.from(sealed[field] as Uint8Array);
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      expect(() => openSealedValue(vault, { ...sealed, [field]: bytes }, "STRIPE_KEY")).toThrow(SealingError);
    }
    expect(() => openSealedValue(vault, { ...sealed, iv: new Uint8Array(3) }, "STRIPE_KEY")).toThrow(
      /malformed/,
    );
  });
});
