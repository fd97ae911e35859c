/**
 * The last value read for each key, in memory only. Fresh for `ttlMs`; older entries are kept so that a
 * client that opted in can serve them during an outage.
 */
export interface CachedValue {
  value: string;
  /** Younger than the TTL. */
  fresh: boolean;
  ageMs: number;
}

export interface SecretCache {
  get(key: string): CachedValue | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
  clear(): void;
}

export function createSecretCache(options: { ttlMs: number; now: () => number }): SecretCache {
  const entries = new Map<string, { value: string; storedAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const ageMs = options.now() - entry.storedAt;
      return { value: entry.value, fresh: ageMs < options.ttlMs, ageMs };
    },
    set: (key, value) => {
      entries.set(key, { value, storedAt: options.now() });
    },
    delete: (key) => {
      entries.delete(key);
    },
    clear: () => entries.clear(),
  };
}
