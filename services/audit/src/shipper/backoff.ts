export interface BackoffPolicy {
  /** The first delay. */
  baseMs: number;
  /** No delay is longer. */
  maxMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): exponential, capped, with jitter over the
 * upper half so that several shippers recovering together spread out without any delay collapsing to 0.
 * A server's `Retry-After` is honoured up to the cap.
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  return Math.round(Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}
