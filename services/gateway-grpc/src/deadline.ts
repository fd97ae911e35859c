/**
 * The call's deadline bounds the vault request: the gateway must answer before the client gives up, so
 * the bus timeout is the configured one or the time left minus a margin for the reply's trip back,
 * whichever is shorter.
 */
import type { Deadline } from "@grpc/grpc-js";

/** Time kept back from the client's deadline for the gateway to send its answer. */
export const deadlineMarginMs = 50;

/** A grpc-js deadline as milliseconds since the epoch; Infinity when the call has none. */
export function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * The bus timeout for a call, or undefined when no useful time is left (the caller answers
 * DEADLINE_EXCEEDED without asking the vault).
 *
 * @example busTimeoutMs({ deadline: now + 2_000, now, configuredMs: 5_000 }) // 1_950
 */
export function busTimeoutMs(input: {
  deadline: number;
  now: number;
  configuredMs: number;
}): number | undefined {
  const left = input.deadline - input.now - deadlineMarginMs;
  const timeout = Math.min(input.configuredMs, left);
  return timeout >= 1 ? Math.floor(timeout) : undefined;
}
