import { assertLeaseArguments, type Lease, type LeaseOptions } from "./lease.ts";

interface Grant {
  holder: string;
  expiresAtMs: number;
}

/** The leases of one in-process bus: a map from name to the current holder and when its time runs out. */
export class MemoryLeases {
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly now: () => number) {}

  lease(name: string, options: LeaseOptions): Lease {
    assertLeaseArguments(name, options);
    const { grants, now } = this;
    let validUntilMs = 0;
    return {
      name,
      holder: options.holder,
      get held() {
        return now() < validUntilMs;
      },
      async tryAcquire() {
        const at = now();
        const current = grants.get(name);
        if (current && current.holder !== options.holder && current.expiresAtMs > at) {
          validUntilMs = 0;
          return false;
        }
        grants.set(name, { holder: options.holder, expiresAtMs: at + options.ttlMs });
        validUntilMs = at + options.ttlMs;
        return true;
      },
      async release() {
        validUntilMs = 0;
        if (grants.get(name)?.holder === options.holder) grants.delete(name);
      },
    };
  }
}
