/**
 * The shipper: a durable pull consumer on the namespace's audit stream, batches handed to a sink, and a
 * lease so that one process ships at a time (the others wait on standby) and the events reach the sink
 * in stream order. See the service README for the ordering argument.
 */
import { auditStreamName, type Bus, type DurableConsumer, type DurableMessage } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { AuditStatusReply } from "@secrets/proto/audit";
import { type BackoffPolicy, backoffDelay } from "@secrets/validation";
import type { AuditSink } from "../sinks/sink.ts";
import type { AuditTrail } from "../trail/audit-trail.ts";
import { type ShipperClock, systemClock } from "./clock.ts";
import { createDelivery } from "./delivery.ts";
import type { Parking } from "./parking.ts";
import { newShipperFigures } from "./shipper-figures.ts";

/** The lease every audit process of a namespace competes for. */
export const shipperLeaseName = "audit-shipper";

export interface ShipperOptions {
  /** Durable consumer name (processes sharing it share the stream position). */
  consumerName: string;
  /** Most events per batch; also the consumer's max ack pending (one batch in flight). */
  batchMax: number;
  /** Longest wait to fill a batch. */
  batchWaitMs: number;
  /** Unacknowledged events are redelivered after this long. */
  ackWaitMs: number;
  /** The lease lasts this long unrenewed; renewed, and retried on standby, every third of it. */
  leaseTtlMs: number;
  /** This process's name for the lease (unique per process). */
  holder: string;
  retry: BackoffPolicy;
}

export interface ShipperDeps {
  bus: Pick<Bus, "consumer" | "lease">;
  sink: AuditSink;
  parking: Parking;
  logger: Logger;
  options: ShipperOptions;
  clock?: ShipperClock;
  /** The hash chain and its signed digests; without it the lines carry no chain. */
  trail?: AuditTrail;
}

export interface Shipper {
  /** Binds the durable consumer (waiting for the stream to exist) and starts shipping or standing by. */
  start(): Promise<void>;
  /** Stops fetching, lets an in-flight push finish (or hands its events back), releases the lease. */
  stop(): Promise<void>;
  /** The figures `auditOperations.status` answers with. */
  status(): Promise<AuditStatusReply>;
  /** Logs one summary line (main.ts calls it every AUDIT_SUMMARY_INTERVAL_MS). */
  logSummary(): Promise<void>;
  /** True while this process holds the lease. */
  readonly active: boolean;
}

export function createShipper(deps: ShipperDeps): Shipper {
  const { logger, options, sink, parking } = deps;
  const clock = deps.clock ?? systemClock;
  const lease = deps.bus.lease(shipperLeaseName, { holder: options.holder, ttlMs: options.leaseTtlMs });
  const renewEveryMs = Math.max(1, Math.floor(options.leaseTtlMs / 3));
  const figures = newShipperFigures();
  const stopping = new AbortController();
  let consumer: DurableConsumer | undefined;
  let running: Promise<void> | undefined;
  let active = false;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let renewing = false;
  let shippedAtLastSummary = 0;

  const mayContinue = () => !stopping.signal.aborted && lease.held;
  const deliver = createDelivery({
    sink,
    parking,
    logger,
    clock,
    retry: options.retry,
    ackWaitMs: options.ackWaitMs,
    figures,
    mayContinue,
    signal: stopping.signal,
    ...(deps.trail ? { trail: deps.trail } : {}),
  });
  let lastDigestAtMs = clock.now();

  async function bindConsumer(): Promise<DurableConsumer | undefined> {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      try {
        return await deps.bus.consumer({
          stream: auditStreamName,
          durable: options.consumerName,
          ackWaitMs: options.ackWaitMs,
          maxAckPending: options.batchMax,
        });
      } catch (error) {
        if (attempt === 0) logger.warn("waiting for the audit stream (the vault creates it)", { error });
        await clock.sleep(2_000, stopping.signal);
      }
    }
    return undefined;
  }

  async function acquire(): Promise<boolean> {
    try {
      return await lease.tryAcquire();
    } catch (error) {
      logger.warn("could not check the audit-shipper lease", { error });
      return false;
    }
  }

  async function renew(): Promise<void> {
    if (renewing || stopping.signal.aborted) return;
    renewing = true;
    try {
      if (!(await lease.tryAcquire())) logger.warn("another audit process took the audit-shipper lease");
    } catch (error) {
      logger.warn("could not renew the audit-shipper lease", { error });
    } finally {
      renewing = false;
    }
  }

  function becomeActive(): void {
    active = true;
    logger.info("audit shipper active: holding the lease", { holder: options.holder, sink: sink.name });
    renewTimer = setInterval(() => void renew(), renewEveryMs);
  }

  function becomeInactive(quietly: boolean): void {
    if (active && !quietly)
      logger.warn("audit shipper lost the lease: on standby", { holder: options.holder });
    active = false;
    clearInterval(renewTimer);
    renewTimer = undefined;
  }

  /** Ships the digest of the positions since the last one, if any; a failed one is retried next time. */
  async function shipDigest(attempts: number): Promise<void> {
    const trail = deps.trail;
    const digest = trail?.pendingDigest();
    lastDigestAtMs = clock.now();
    if (!trail || !digest) return;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const outcome = await sink
        .write([digest])
        .catch((error: unknown) => ({ status: "retry", reason: String(error) }));
      if (outcome.status === "accepted") {
        trail.digestShipped(digest);
        logger.info("audit digest shipped", { firstSeq: digest.digestFirstSeq, lastSeq: digest.chainSeq });
        return;
      }
      logger.warn("could not ship the audit digest", {
        attempt: attempt + 1,
        reason: "reason" in outcome ? outcome.reason : "",
      });
      await clock.sleep(backoffDelay(attempt, options.retry, clock.random), stopping.signal);
    }
  }

  async function afterBatch(): Promise<void> {
    try {
      await deps.trail?.settled();
    } catch (error) {
      logger.error("could not save the audit chain checkpoint", { error });
    }
  }

  function handBack(messages: readonly DurableMessage[]): void {
    for (const message of messages) message.nak(0);
  }

  async function run(bound: DurableConsumer): Promise<void> {
    let announcedStandby = false;
    while (!stopping.signal.aborted) {
      if (!lease.held) {
        if (active) becomeInactive(false);
        if (!(await acquire())) {
          if (!announcedStandby) {
            logger.info("audit shipper on standby: another process holds the lease", {
              holder: options.holder,
            });
            announcedStandby = true;
          }
          await clock.sleep(renewEveryMs, stopping.signal);
          continue;
        }
        announcedStandby = false;
        becomeActive();
        await deps.trail?.resume().catch((error: unknown) => {
          logger.error("could not read the audit chain checkpoint; continuing from this process's own", {
            error,
          });
        });
      }
      if (deps.trail && clock.now() - lastDigestAtMs >= deps.trail.digestIntervalMs) await shipDigest(3);
      let messages: DurableMessage[];
      try {
        messages = await bound.fetch({ max: options.batchMax, expiresMs: options.batchWaitMs });
      } catch (error) {
        logger.warn("fetching audit events failed; retrying", { error });
        await clock.sleep(options.retry.initialDelayMs, stopping.signal);
        continue;
      }
      if (messages.length === 0) continue;
      // Lost the lease (or told to stop) while waiting: whoever ships next gets these first.
      if (!mayContinue()) handBack(messages);
      else if ((await deliver(messages)) === "done") await afterBatch();
    }
    becomeInactive(true);
  }

  return {
    get active() {
      return active && lease.held;
    },
    async start() {
      consumer = await bindConsumer();
      if (consumer) running = run(consumer);
    },
    async stop() {
      const holderAtStop = active;
      stopping.abort();
      await running;
      // The digest at shutdown, while the lease is still ours: the last positions are signed too.
      // Renewed first: renewals stop with the loop, and only the holder may write after the last batch.
      if (deps.trail && holderAtStop && (await acquire())) await shipDigest(2);
      becomeInactive(true);
      await lease.release().catch((error: unknown) => {
        logger.warn("could not release the audit-shipper lease; it expires on its own", { error });
      });
    },
    async status() {
      const state = consumer ? await consumer.state() : { pending: 0, ackPending: 0 };
      return {
        pending: state.pending,
        inFlight: state.ackPending,
        lastSuccessMs: figures.lastSuccessMs,
        consecutiveFailures: figures.consecutiveFailures,
        parked: parking.count,
        active: active && lease.held,
        sink: sink.name,
      };
    },
    async logSummary() {
      const state = await consumer?.state().catch(() => undefined);
      logger.info("audit shipper summary", {
        active: active && lease.held,
        sink: sink.name,
        shipped: figures.shipped - shippedAtLastSummary,
        pending: state?.pending ?? null,
        inFlight: state?.ackPending ?? null,
        consecutiveFailures: figures.consecutiveFailures,
        lastSuccessMs: figures.lastSuccessMs,
        parked: parking.count,
      });
      shippedAtLastSummary = figures.shipped;
    },
  };
}
