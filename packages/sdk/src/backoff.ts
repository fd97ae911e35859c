/** Exponential backoff with jitter, and a sleep that an AbortSignal ends early. */

export interface BackoffOptions {
  /** First delay's upper bound. */
  initialDelayMs: number;
  /** Upper bound of every delay. */
  maxDelayMs: number;
  /** A number in [0, 1). */
  random: () => number;
}

/** The delay before attempt `attempt` (0-based): uniform in [bound / 2, bound], bound doubling each time. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const bound = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  // Half fixed, half random: spreads replicas that started together without ever polling in a tight loop.
  return Math.round(bound / 2 + (bound / 2) * options.random());
}

/** Resolves after `ms`, or as soon as `signal` aborts (without throwing). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
