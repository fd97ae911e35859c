import { type JetStreamClient, type JetStreamManager, type KV, NatsError, nanos } from "nats";
import { BusError, ErrorCode } from "./errors.ts";
import { assertLeaseArguments, type Lease, type LeaseOptions } from "./lease.ts";

/** JetStream's API error code for "wrong last sequence": the compare-and-set lost. */
const wrongLastSequence = 10071;

function lostRace(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === wrongLastSequence;
}

/**
 * Opens (creating if needed) the KV bucket holding a namespace's leases. The bucket's TTL is the lease
 * time: a holder that stops renewing has its entry expire on the server, which frees the lease. An
 * existing bucket with another TTL or replica count is updated, so every lease of a namespace shares one
 * TTL, and the bucket has as many copies as the audit stream (a lease on a lost node would be lost).
 */
export async function openLeaseBucket(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
  ttlMs: number,
  replicas = 1,
): Promise<KV> {
  const kv = await js.views.kv(bucket, { ttl: ttlMs, history: 1, replicas });
  const status = await kv.status();
  const config = status.streamInfo.config;
  if (status.ttl !== ttlMs || config.num_replicas !== replicas) {
    await jsm.streams.update(config.name, {
      ...config,
      max_age: nanos(ttlMs),
      duplicate_window: nanos(Math.min(ttlMs, 120_000)),
      num_replicas: replicas,
    });
  }
  return kv;
}

/**
 * A lease on a JetStream KV bucket: `create` takes a free key (only if absent, or deleted), `update`
 * with the last revision renews it (compare-and-set), and the bucket's TTL expires a holder that stops
 * renewing.
 */
export function natsLease(bucket: () => Promise<KV>, name: string, options: LeaseOptions): Lease {
  assertLeaseArguments(name, options);
  const holderBytes = new TextEncoder().encode(options.holder);
  let revision = 0;
  let validUntilMs = 0;

  async function acquire(kv: KV): Promise<boolean> {
    if (revision > 0) {
      try {
        revision = await kv.update(name, holderBytes, revision);
        return true;
      } catch (error) {
        if (!lostRace(error)) throw error;
        revision = 0; // expired, or taken over: look at who has it now
      }
    }
    const entry = await kv.get(name);
    if (entry && entry.operation === "PUT") {
      // Our own entry whose revision we lost track of (a failed renewal that the server did apply).
      if (entry.string() !== options.holder) return false;
      revision = await kv.update(name, holderBytes, entry.revision);
      return true;
    }
    revision = await kv.create(name, holderBytes);
    return true;
  }

  return {
    name,
    holder: options.holder,
    get held() {
      return Date.now() < validUntilMs;
    },
    async tryAcquire() {
      const startedAtMs = Date.now();
      let acquired: boolean;
      try {
        acquired = await acquire(await bucket());
      } catch (error) {
        if (!lostRace(error)) {
          throw new BusError(ErrorCode.UNAVAILABLE, `The lease "${name}" could not be checked`, {
            cause: error,
          });
        }
        acquired = false;
      }
      if (!acquired) revision = 0;
      validUntilMs = acquired ? startedAtMs + options.ttlMs : 0;
      return acquired;
    },
    async release() {
      validUntilMs = 0;
      if (revision === 0) return;
      const last = revision;
      revision = 0;
      try {
        await (await bucket()).delete(name, { previousSeq: last });
      } catch (error) {
        if (!lostRace(error)) {
          throw new BusError(ErrorCode.UNAVAILABLE, `The lease "${name}" could not be released`, {
            cause: error,
          });
        }
      }
    },
  };
}
