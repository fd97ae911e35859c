/**
 * Latency and throughput of one measured load: what every load generator reports, in one shape.
 */

export interface LoadSummary {
  /** Calls that succeeded inside the measured window. */
  count: number;
  /** Calls that failed inside the measured window. */
  errors: number;
  /** The first few distinct failure messages, for diagnosis. */
  errorSamples: string[];
  /** Every call made, warm-up and drain included, succeeded or not (each one an audited request). */
  totalCalls: number;
  /** Closed-loop workers, each with one call in flight. */
  concurrency: number;
  /** Length of the measured window, in ms (warm-up excluded). */
  durationMs: number;
  /** Successful calls per second over the window. */
  throughput: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** CPU the load generator itself used from its first call to its last, in ms (when it reports it). */
  cpuMs?: number;
  /** Every measured latency, when the harness asked for them to merge several runs; never in the results. */
  latenciesMs?: number[];
}

/** The value at quantile `q` (0..1) of ascending `sorted`, nearest rank; 0 for no samples. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Summarises latencies (ms) of successful calls measured over `durationMs`. */
export function summarize(input: {
  latenciesMs: ArrayLike<number>;
  errors: number;
  errorSamples?: string[];
  totalCalls?: number;
  concurrency: number;
  durationMs: number;
}): LoadSummary {
  const sorted = Float64Array.from(input.latenciesMs).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    errors: input.errors,
    errorSamples: input.errorSamples ?? [],
    totalCalls: input.totalCalls ?? sorted.length + input.errors,
    concurrency: input.concurrency,
    durationMs: round(input.durationMs, 1),
    throughput: round(input.durationMs > 0 ? (sorted.length * 1000) / input.durationMs : 0, 1),
    p50Ms: round(quantile(sorted, 0.5)),
    p90Ms: round(quantile(sorted, 0.9)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted.length > 0 ? (sorted[sorted.length - 1] ?? 0) : 0),
    meanMs: round(sorted.length > 0 ? total / sorted.length : 0),
  };
}

/**
 * One summary for several runs of the same load (interleaved with their baseline's runs, so that the
 * machine's other work touches both alike): counts and durations add up, percentiles come from every
 * latency together.
 */
export function mergeLoads(parts: readonly LoadSummary[]): LoadSummary {
  const first = parts[0];
  if (!first) throw new Error("Nothing to merge");
  const latencies = parts.flatMap((part) => {
    if (!part.latenciesMs) throw new Error("A run to merge kept no latencies");
    return part.latenciesMs;
  });
  const sum = (pick: (part: LoadSummary) => number) => parts.reduce((total, part) => total + pick(part), 0);
  return {
    ...summarize({
      latenciesMs: latencies,
      errors: sum((part) => part.errors),
      errorSamples: [...new Set(parts.flatMap((part) => part.errorSamples))].slice(0, 5),
      totalCalls: sum((part) => part.totalCalls),
      concurrency: first.concurrency,
      durationMs: sum((part) => part.durationMs),
    }),
    ...(parts.every((part) => part.cpuMs !== undefined) ? { cpuMs: sum((part) => part.cpuMs ?? 0) } : {}),
  };
}

/** The median of a few numbers (repeated cold starts); 0 for none. */
export function median(values: readonly number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}
