/** What the shipper has done, for the status operation and the summary line. */
export interface ShipperFigures {
  /** Events the sink accepted since start-up. */
  shipped: number;
  /** When the sink last accepted a batch, ms since the epoch; 0 if never. */
  lastSuccessMs: number;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /** When the current run of failures began; 0 while the sink accepts. */
  failingSinceMs: number;
}

export function newShipperFigures(): ShipperFigures {
  return { shipped: 0, lastSuccessMs: 0, consecutiveFailures: 0, failingSinceMs: 0 };
}
