import { createSecretKey, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type EnvelopeKey, open, readFormat, readKeyId, seal } from "./envelope.ts";
import { DecryptionError, type DecryptionFailure } from "./errors.ts";

const key = createSecretKey(randomBytes(32));
const keyId = 0xdeadbeef;
const found: EnvelopeKey = { key, acceptsLegacy: false };
const keyFor = (id: number) => (id === keyId ? found : undefined);
const v1 = { secretId: "secret-1", version: 1 };
const text = (value: string) => new TextEncoder().encode(value);
const plaintext = text("postgres://app:hunter2@db/app");

function expectFailure(attempt: () => unknown, reason: DecryptionFailure): void {
  let caught: unknown;
  try {
    attempt();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DecryptionError);
  expect((caught as DecryptionError).reason).toBe(reason);
  expect((caught as DecryptionError).name).toBe("DecryptionError");
  expect((caught as Error).message).not.toContain("hunter2");
}

describe("envelope", () => {
  it("round-trips, with the documented layout", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    expect(envelope.length).toBe(1 + 4 + 12 + plaintext.length + 16);
    expect(envelope[0]).toBe(2);
    expect(readFormat(envelope)).toBe(2);
    expect([...envelope.subarray(1, 5)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(readKeyId(envelope)).toBe(keyId);
    expect(open(keyFor, envelope, v1)).toEqual(plaintext);
    expect(
      open(keyFor, seal(key, keyId, new Uint8Array(), { secretId: "s", version: 1 }), {
        secretId: "s",
        version: 1,
      }),
    ).toEqual(new Uint8Array());
  });

  it("uses a fresh IV each time", () => {
    const first = seal(key, keyId, plaintext, v1);
    const second = seal(key, keyId, plaintext, v1);
    expect(first.subarray(5, 17)).not.toEqual(second.subarray(5, 17));
    expect(first).not.toEqual(second);
  });

  it("rejects a change to any byte: header, IV, ciphertext or tag", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    for (let index = 0; index < envelope.length; index++) {
      const tampered = envelope.slice();
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      const reason = index === 0 ? "unsupported-version" : index < 5 ? "unknown-key" : "authentication";
      expectFailure(() => open(keyFor, tampered, v1), reason);
    }
  });

  it("rejects an envelope whose key id was changed to another known key", () => {
    const otherId = 7;
    const envelope = seal(key, keyId, plaintext, v1);
    new DataView(envelope.buffer).setUint32(1, otherId, false);
    expectFailure(
      () => open((id) => (id === otherId || id === keyId ? found : undefined), envelope, v1),
      "authentication",
    );
  });

  it("rejects an envelope moved to another secret", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    expectFailure(() => open(keyFor, envelope, { secretId: "secret-2", version: 1 }), "authentication");
  });

  it("rejects truncated envelopes, unknown keys and unknown versions", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    expectFailure(() => open(keyFor, envelope.subarray(0, 32), v1), "truncated");
    expectFailure(() => open(keyFor, envelope.subarray(0, envelope.length - 1), v1), "authentication");
    expectFailure(() => open(() => undefined, envelope, v1), "unknown-key");
    const version3 = envelope.slice();
    version3[0] = 3;
    expectFailure(() => readKeyId(version3), "unsupported-version");
  });

  it("decrypts an envelope that is a view into a larger buffer", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    const larger = new Uint8Array(envelope.length + 10);
    larger.set(envelope, 7);
    expect(open(keyFor, larger.subarray(7, 7 + envelope.length), v1)).toEqual(plaintext);
  });

  it("rejects an envelope put back as another version of its secret", () => {
    const envelope = seal(key, keyId, plaintext, v1);
    for (const version of [2, 256, 0x01000000]) {
      expectFailure(() => open(keyFor, envelope, { secretId: "secret-1", version }), "authentication");
    }
  });

  it("opens a legacy (format 1, id only) envelope only under a key that accepts it", () => {
    const legacy = seal(key, keyId, plaintext, v1, 1);
    expect(legacy[0]).toBe(1);
    const legacyKey = (id: number) => (id === keyId ? { key, acceptsLegacy: true } : undefined);
    // Format 1 never bound the version: any version opens it, which is why it must not outlive its keys.
    expect(open(legacyKey, legacy, { secretId: "secret-1", version: 9 })).toEqual(plaintext);
    expectFailure(() => open(legacyKey, legacy, { secretId: "secret-2", version: 1 }), "authentication");
    expectFailure(() => open(keyFor, legacy, v1), "unsupported-version");
    // Rewriting a format 2 envelope's byte to 1 to escape the version check fails authentication.
    const downgraded = seal(key, keyId, plaintext, v1);
    downgraded[0] = 1;
    expectFailure(() => open(legacyKey, downgraded, { secretId: "secret-1", version: 2 }), "authentication");
  });
});
