/**
 * Creates or updates the audit stream at start-up. A NATS cluster that has just started (or is electing
 * its JetStream leader) answers nothing for a few seconds, so a failure that can pass is retried for up to
 * `patienceMs`, logged as it goes; one that cannot (replicas on a server that is not clustered) stops the
 * vault at once with the reason.
 */
import { type Bus, BusError, ErrorCode, type StreamSpec } from "@secrets/bus";
import type { Logger } from "@secrets/logger";

export async function ensureAuditStream(
  bus: Pick<Bus, "ensureStream">,
  spec: StreamSpec,
  logger: Logger,
  options: { patienceMs?: number; pauseMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.patienceMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      await bus.ensureStream(spec);
      if (attempt > 0) logger.info("audit stream ready", { attempts: attempt + 1 });
      return;
    } catch (error) {
      const passing = error instanceof BusError && error.code === ErrorCode.UNAVAILABLE;
      if (!passing || Date.now() >= deadline) throw error;
      if (attempt % 10 === 0)
        logger.warn("the audit stream cannot be set up yet; retrying", { attempt: attempt + 1, error });
      await Bun.sleep(options.pauseMs ?? 500);
    }
  }
}
