/**
 * Whether the vault answers: pinged over the bus every few seconds and again on demand (a health Check
 * that finds the last ping stale), so the health service reports what is true now rather than a guess.
 */
import { type Bus, request, serviceOperations } from "@secrets/bus";
import type { Logger } from "@secrets/logger";

export interface VaultHealthOptions {
  bus: Bus;
  logger: Logger;
  /** Milliseconds clock; injectable so tests need no sleeping. Default `Date.now`. */
  now?: () => number;
  /** Pause between background pings; default 5 s. */
  intervalMs?: number;
  /** Longest wait for a ping's reply; default 1 s. */
  pingTimeoutMs?: number;
  /** An on-demand check pings again when the last ping is older than this; default 1 s. */
  maxAgeMs?: number;
}

export type HealthListener = (serving: boolean) => void;

export class VaultHealth {
  private readonly bus: Bus;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly listeners = new Set<HealthListener>();
  private lastPingAt = Number.NEGATIVE_INFINITY;
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<boolean> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastPingAnswered = false;
  private stopped = false;
  private reported = false;

  constructor(options: VaultHealthOptions) {
    this.bus = options.bus;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
    this.maxAgeMs = options.maxAgeMs ?? 1_000;
  }

  /** Pings now and then every `intervalMs`, until `stop()`. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.ping();
    this.timer = setInterval(() => void this.ping(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops pinging and reports NOT_SERVING from now on (the gateway is shutting down). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.report();
  }

  /** True when the vault answered a ping recently and the gateway is not shutting down. */
  isServing(): boolean {
    if (this.stopped) return false;
    // Two missed background pings make an old answer worthless even if no ping has failed since.
    const fresh = this.now() - this.lastAnswerAt <= 2 * this.intervalMs + this.pingTimeoutMs;
    return fresh && this.lastPingAnswered;
  }

  /** The vault's status, pinging first when the last ping is older than `maxAgeMs`. */
  async current(): Promise<boolean> {
    if (!this.stopped && this.now() - this.lastPingAt > this.maxAgeMs) await this.ping();
    return this.isServing();
  }

  /** Calls `listener` whenever the status changes; returns the unsubscribe function. */
  onChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One ping (shared by concurrent callers); resolves with the resulting status. */
  ping(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.pending ??= this.sendPing().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async sendPing(): Promise<boolean> {
    const sentAt = this.now();
    try {
      await request(this.bus, serviceOperations.ping, {}, { timeoutMs: this.pingTimeoutMs });
      this.lastPingAt = sentAt;
      this.lastAnswerAt = this.now();
      this.lastPingAnswered = true;
    } catch (error) {
      this.lastPingAt = sentAt;
      this.lastPingAnswered = false;
      if (this.reported) this.logger.warn("vault stopped answering pings", { error });
    }
    this.report();
    return this.isServing();
  }

  private report(): void {
    const serving = this.isServing();
    if (serving === this.reported) return;
    this.reported = serving;
    if (serving) this.logger.info("vault answers pings");
    for (const listener of this.listeners) listener(serving);
  }
}
