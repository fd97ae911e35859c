import { describe, expect, it } from "vitest";
import { AuthCache } from "./auth-cache.ts";

describe("AuthCache", () => {
  it("forgets entries after the TTL, or at their own expiry when sooner", () => {
    let now = 0;
    const cache = new AuthCache<string>({ ttlMs: 5_000, maxEntries: 10, now: () => now });
    cache.set("a", "alice");
    cache.set("b", "bob", 1_000);
    now = 999;
    expect([cache.get("a"), cache.get("b")]).toEqual(["alice", "bob"]);
    now = 1_000;
    expect(cache.get("b")).toBeUndefined();
    now = 5_000;
    expect(cache.get("a")).toBeUndefined();
  });

  it("is bounded, dropping the least recently used, and off with a TTL of 0", () => {
    const cache = new AuthCache<number>({ ttlMs: 1_000, maxEntries: 2, now: () => 0 });
    cache.set("a", 1);
    cache.set("b", 2);
    cache.get("a");
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
    const off = new AuthCache<number>({ ttlMs: 0, maxEntries: 2, now: () => 0 });
    off.set("a", 1);
    expect(off.get("a")).toBeUndefined();
  });
});
