import type { Logger } from "@secrets/logger";

interface Tally {
  count: number;
  at: Date;
}

export interface UsageSink {
  recordTokenUsage(entries: { id: string; count: number; lastUsedAt: Date }[]): Promise<void>;
  recordAccessUsage(entries: { id: string; count: number; lastAccessedAt: Date }[]): Promise<void>;
}

export interface UsageRecorderDeps {
  sink: UsageSink;
  logger: Logger;
  intervalMs: number;
  now?: () => number;
}

function add(tallies: Map<string, Tally>, id: string, at: Date, count = 1): void {
  const tally = tallies.get(id);
  if (!tally) tallies.set(id, { count, at });
  else {
    tally.count += count;
    if (at > tally.at) tally.at = at;
  }
}

/**
 * Counts successful reads in memory and writes them in batches: `access_count` and `last_used_at` of the
 * token, `access_count` and `last_accessed_at` of the access request. Counts are exact; they reach the
 * database at most one interval late (plus a failed write's retry), and `stop()` writes what is left.
 */
export function createUsageRecorder(deps: UsageRecorderDeps) {
  const now = deps.now ?? Date.now;
  let tokens = new Map<string, Tally>();
  let access = new Map<string, Tally>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let flushing: Promise<void> | undefined;

  async function write(tokenBatch: Map<string, Tally>, accessBatch: Map<string, Tally>): Promise<void> {
    try {
      if (tokenBatch.size > 0) {
        await deps.sink.recordTokenUsage(
          [...tokenBatch].map(([id, t]) => ({ id, count: t.count, lastUsedAt: t.at })),
        );
        tokenBatch.clear();
      }
      if (accessBatch.size > 0) {
        await deps.sink.recordAccessUsage(
          [...accessBatch].map(([id, t]) => ({ id, count: t.count, lastAccessedAt: t.at })),
        );
      }
    } catch (error) {
      // Put back what was not written so the next flush carries it: counts are never dropped.
      for (const [id, t] of tokenBatch) add(tokens, id, t.at, t.count);
      for (const [id, t] of accessBatch) add(access, id, t.at, t.count);
      deps.logger.warn("access counters not written yet; will retry", { error });
    }
  }

  function flush(): Promise<void> {
    if (flushing) return flushing.then(flush);
    if (tokens.size === 0 && access.size === 0) return Promise.resolve();
    const tokenBatch = tokens;
    const accessBatch = access;
    tokens = new Map();
    access = new Map();
    flushing = write(tokenBatch, accessBatch).finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    /** Counts one successful read by `tokenId` through `accessRequestId`. */
    recordRead(tokenId: string, accessRequestId: string): void {
      const at = new Date(now());
      add(tokens, tokenId, at);
      add(access, accessRequestId, at);
    },
    flush,
    start(): void {
      timer ??= setInterval(() => void flush(), deps.intervalMs);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
