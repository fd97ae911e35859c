import { createSecretKey, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { open, readKeyId, seal } from "./envelope.ts";
import { DecryptionError, type DecryptionFailure } from "./errors.ts";

const key = createSecretKey(randomBytes(32));
const keyId = 0xdeadbeef;
const keyFor = (id: number) => (id === keyId ? key : undefined);
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
    const envelope = seal(key, keyId, plaintext, "secret-1");
    expect(envelope.length).toBe(1 + 4 + 12 + plaintext.length + 16);
    expect(envelope[0]).toBe(1);
    expect([...envelope.subarray(1, 5)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(readKeyId(envelope)).toBe(keyId);
    expect(open(keyFor, envelope, "secret-1")).toEqual(plaintext);
    expect(open(keyFor, seal(key, keyId, new Uint8Array(), "s"), "s")).toEqual(new Uint8Array());
  });

  it("uses a fresh IV each time", () => {
    const first = seal(key, keyId, plaintext, "secret-1");
    const second = seal(key, keyId, plaintext, "secret-1");
    expect(first.subarray(5, 17)).not.toEqual(second.subarray(5, 17));
    expect(first).not.toEqual(second);
  });

  it("rejects a change to any byte: header, IV, ciphertext or tag", () => {
    const envelope = seal(key, keyId, plaintext, "secret-1");
    for (let index = 0; index < envelope.length; index++) {
      const tampered = envelope.slice();
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      const reason = index === 0 ? "unsupported-version" : index < 5 ? "unknown-key" : "authentication";
      expectFailure(() => open(keyFor, tampered, "secret-1"), reason);
    }
  });

  it("rejects an envelope whose key id was changed to another known key", () => {
    const otherId = 7;
    const envelope = seal(key, keyId, plaintext, "secret-1");
    new DataView(envelope.buffer).setUint32(1, otherId, false);
    expectFailure(
      () => open((id) => (id === otherId || id === keyId ? key : undefined), envelope, "secret-1"),
      "authentication",
    );
  });

  it("rejects an envelope moved to another secret", () => {
    const envelope = seal(key, keyId, plaintext, "secret-1");
    expectFailure(() => open(keyFor, envelope, "secret-2"), "authentication");
  });

  it("rejects truncated envelopes, unknown keys and unknown versions", () => {
    const envelope = seal(key, keyId, plaintext, "secret-1");
    expectFailure(() => open(keyFor, envelope.subarray(0, 32), "secret-1"), "truncated");
    expectFailure(
      () => open(keyFor, envelope.subarray(0, envelope.length - 1), "secret-1"),
      "authentication",
    );
    expectFailure(() => open(() => undefined, envelope, "secret-1"), "unknown-key");
    const version2 = envelope.slice();
    version2[0] = 2;
    expectFailure(() => readKeyId(version2), "unsupported-version");
  });

  it("decrypts an envelope that is a view into a larger buffer", () => {
    const envelope = seal(key, keyId, plaintext, "secret-1");
    const larger = new Uint8Array(envelope.length + 10);
    larger.set(envelope, 7);
    expect(open(keyFor, larger.subarray(7, 7 + envelope.length), "secret-1")).toEqual(plaintext);
  });
});
