/** Exponential backoff with jitter, and a sleep that an AbortSignal ends early: one formula for every retry loop. */

export interface BackoffPolicy {
  /** The first delay's upper bound. */
  initialDelayMs: number;
  /** No delay is longer. */
  maxDelayMs: number;
}

/** The upper bound before attempt `attempt` (0-based): `initialDelayMs` doubling each time, capped. */
export function backoffBound(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
}

/**
 * The delay before attempt `attempt` (0-based): uniform in [bound / 2, bound] with `random` in [0, 1).
 * Half fixed, half random: spreads replicas that started together without any delay collapsing to 0.
 * `atLeastMs` (a server's `Retry-After`) is honoured up to `maxDelayMs`.
 *
 * @example
 * await sleep(backoffDelay(attempt, { initialDelayMs: 500, maxDelayMs: 15_000 }, Math.random), signal);
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  atLeastMs = 0,
): number {
  const bound = backoffBound(attempt, policy);
  const jittered = bound / 2 + (bound / 2) * random();
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, atLeastMs)));
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
