/**
 * The closed-loop load every generator uses: `concurrency` workers, each with exactly one call in flight,
 * for a warm-up and then a measured window. Only calls that start and end inside the window count, so the
 * warm-up (connections, JIT, caches) and the drain at the end stay out of the figures.
 */
import { type LoadSummary, summarize } from "./stats.ts";

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** One call; resolves when it succeeded, rejects when it failed. `worker` is 0..concurrency-1. */
  call: (worker: number) => Promise<unknown>;
  /** Return every measured latency too (`latenciesMs`), for the harness to merge several runs. */
  keepLatencies?: boolean;
}

const maxErrorSamples = 5;

export async function closedLoop(options: ClosedLoopOptions): Promise<LoadSummary> {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let totalCalls = 0;
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;

  async function worker(index: number): Promise<void> {
    for (;;) {
      const began = performance.now();
      if (began >= measureUntil) return;
      let failure: unknown;
      let failed = false;
      try {
        await options.call(index);
      } catch (error) {
        failed = true;
        failure = error;
      }
      const ended = performance.now();
      totalCalls += 1;
      if (began < measureFrom || ended > measureUntil) continue;
      if (!failed) {
        latencies.push(ended - began);
        continue;
      }
      errors += 1;
      if (errorSamples.size < maxErrorSamples)
        errorSamples.add(failure instanceof Error ? failure.message : String(failure));
      // A failing target answers at once; do not spin on it.
      await Bun.sleep(1);
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const summary = summarize({
    latenciesMs: latencies,
    errors,
    errorSamples: [...errorSamples],
    totalCalls,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
  });
  if (!options.keepLatencies) return summary;
  return { ...summary, latenciesMs: latencies.map((ms) => Math.round(ms * 1000) / 1000) };
}
