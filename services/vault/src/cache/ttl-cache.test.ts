import { describe, expect, it } from "vitest";
import { TtlCache } from "./ttl-cache.ts";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A load the test finishes by hand. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("TtlCache", () => {
  it("serves an entry for its TTL, then loads again", async () => {
    const time = clock();
    const cache = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 10, now: time.now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.getOrLoad("a", load)).toBe(1);
    time.advance(99);
    expect(await cache.getOrLoad("a", load)).toBe(1);
    time.advance(1);
    expect(await cache.getOrLoad("a", load)).toBe(2);
  });

  it("does not keep what was not found, nor anything with a TTL of 0", async () => {
    const missing = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 10 });
    let loads = 0;
    await missing.getOrLoad("a", async () => {
      loads++;
      return undefined;
    });
    await missing.getOrLoad("a", async () => {
      loads++;
      return undefined;
    });
    expect(loads).toBe(2);
    const off = new TtlCache<string, number>({ ttlMs: 0, maxEntries: 10 });
    await off.getOrLoad("a", async () => 1);
    off.set("b", 2);
    expect(off.size).toBe(0);
  });

  it("shares one load between concurrent misses", async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 10 });
    const load = deferred<number>();
    let loads = 0;
    const first = cache.getOrLoad("a", () => {
      loads++;
      return load.promise;
    });
    const second = cache.getOrLoad("a", async () => ++loads);
    load.resolve(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(loads).toBe(1);
  });

  it("does not store what a load read before an invalidation, and does not let later misses join it", async () => {
    const cache = new TtlCache<string, string>({ ttlMs: 100, maxEntries: 10 });
    const stale = deferred<string>();
    const before = cache.getOrLoad("token", () => stale.promise);
    cache.delete("token"); // the change committed and was announced while the load ran
    const after = cache.getOrLoad("token", async () => "revoked");
    stale.resolve("approved");
    expect(await before).toBe("approved"); // that request started before the change
    expect(await after).toBe("revoked");
    expect(await cache.getOrLoad("token", async () => "unexpected load")).toBe("revoked");
  });

  it("loads many keys in one go, only those not cached, and nothing across an invalidation", async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 10 });
    cache.set("a", 1);
    const asked: string[][] = [];
    await cache.loadMany(["a", "b", "c"], async (missing) => {
      asked.push(missing);
      return new Map([["b", 2]]);
    });
    expect(asked).toEqual([["b", "c"]]);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, 2, undefined]);
    const stale = deferred<Map<string, number>>();
    const loading = cache.loadMany(["d"], () => stale.promise);
    cache.delete("anything");
    stale.resolve(new Map([["d", 4]]));
    await loading;
    expect(cache.get("d")).toBeUndefined();
  });

  it("drops entries by value and all at once", async () => {
    const cache = new TtlCache<string, { id: string }>({ ttlMs: 100, maxEntries: 10 });
    cache.set("h1", { id: "t1" });
    cache.set("h2", { id: "t2" });
    cache.deleteWhere((row) => row.id === "t1");
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.get("h2")).toEqual({ id: "t2" });
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, the oldest going first", () => {
    const cache = new TtlCache<number, number>({ ttlMs: 100, maxEntries: 3 });
    for (let i = 0; i < 5; i++) cache.set(i, i);
    expect(cache.size).toBe(3);
    expect([0, 1, 2, 3, 4].map((key) => cache.get(key))).toEqual([undefined, undefined, 2, 3, 4]);
  });
});
