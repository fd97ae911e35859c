/**
 * Bounded load for fault tests: a few workers call `attempt` back to back, each call timed and kept, until
 * the test stops them or `maxDurationMs` passes. It always stops by itself.
 *
 * @example
 * const load = startLoad({ workers: 4, maxDurationMs: 30_000 }, () => grpc.getSecret("DB_URL", token));
 * await Bun.sleep(1_000); await vault.kill(); ...
 * const calls = await load.stop();
 */

export interface TimedCall<T> {
  worker: number;
  /** Milliseconds since the epoch when the call started and ended. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** What `attempt` resolved with; undefined when it threw (`error` is set then). */
  result?: T;
  error?: unknown;
}

export interface Load<T> {
  /** Every finished call so far, in the order they ended. */
  readonly calls: TimedCall<T>[];
  /** Finished calls that started at or after `fromMs` (and before `toMs`). */
  between(fromMs: number, toMs?: number): TimedCall<T>[];
  /** Resolves once at least `count` more calls have finished (or the load ended). */
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  /** Stops the workers, waits for their last calls, and returns every call. */
  stop(): Promise<TimedCall<T>[]>;
}

export function startLoad<T>(
  options: { workers: number; maxDurationMs: number; pauseMs?: number },
  attempt: (worker: number, iteration: number) => Promise<T>,
): Load<T> {
  const calls: TimedCall<T>[] = [];
  const endAt = Date.now() + options.maxDurationMs;
  let stopped = false;
  const running = Array.from({ length: options.workers }, async (_, worker) => {
    for (let iteration = 0; !stopped && Date.now() < endAt; iteration++) {
      const startedAt = Date.now();
      const call: TimedCall<T> = { worker, startedAt, endedAt: 0, durationMs: 0 };
      try {
        call.result = await attempt(worker, iteration);
      } catch (error) {
        call.error = error;
      }
      call.endedAt = Date.now();
      call.durationMs = call.endedAt - startedAt;
      calls.push(call);
      if (options.pauseMs) await Bun.sleep(options.pauseMs);
    }
  });
  const finished = Promise.all(running);

  return {
    calls,
    between: (fromMs, toMs = Number.POSITIVE_INFINITY) =>
      calls.filter((call) => call.startedAt >= fromMs && call.startedAt < toMs),
    async waitForCalls(count, timeoutMs = 20_000) {
      const target = calls.length + count;
      const deadline = Date.now() + timeoutMs;
      while (calls.length < target) {
        if (Date.now() > deadline) throw new Error(`fewer than ${count} calls finished in ${timeoutMs} ms`);
        if (stopped || Date.now() >= endAt) return;
        await Bun.sleep(20);
      }
    },
    async stop() {
      stopped = true;
      await finished;
      return calls;
    },
  };
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}
