/**
 * Leases: one holder at a time for a named piece of work (the audit shipper that keeps events in stream
 * order). A holder keeps its lease by calling `tryAcquire` again well within `ttlMs`; one that fails to
 * renew in time loses it, and another holder's `tryAcquire` takes it over.
 */

export interface LeaseOptions {
  /** Who asks: unique per process (host, pid and a random part), never shared by two processes. */
  holder: string;
  /** How long the lease lasts after each successful acquisition or renewal, in milliseconds. */
  ttlMs: number;
}

export interface Lease {
  readonly name: string;
  readonly holder: string;
  /**
   * True while this holder has the lease and the time granted by its last successful `tryAcquire` has
   * not run out. Measured from before that call was sent, so it turns false no later than the lease
   * becomes free for others.
   */
  readonly held: boolean;
  /**
   * Takes the lease when it is free or expired, or renews it when this holder has it; resolves false
   * when another holder has it. Rejects with a BusError (UNAVAILABLE) when the bus cannot tell; `held`
   * then runs out on its own.
   */
  tryAcquire(): Promise<boolean>;
  /** Frees the lease at once when this holder has it (a clean shutdown hands over without waiting). */
  release(): Promise<void>;
}

/** Lease names become KV keys and map keys: letters, digits, `-`, `_`, `.`, `=` and `/`. */
export const leaseNamePattern = /^[-/=.\w]{1,128}$/;

export function assertLeaseArguments(name: string, options: LeaseOptions): void {
  if (!leaseNamePattern.test(name)) throw new Error(`Lease name "${name}" must match ${leaseNamePattern}`);
  if (options.holder === "") throw new Error("A lease holder must be named");
  if (!Number.isInteger(options.ttlMs) || options.ttlMs < 100) {
    throw new Error(`A lease lasts at least 100 ms (got ${options.ttlMs})`);
  }
}

/** Random, process-unique holder name: `<prefix>-<pid>-<random>`. */
export function newLeaseHolder(prefix: string): string {
  return `${prefix}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
}
