/**
 * Load generator for baseline B: closed-loop NATS requests (bare nats.js) to the echo responder.
 *
 *   bun bench/workers/nats-load.ts '<NatsLoadSpec as JSON>'
 */
import { connect } from "nats";
import { closedLoop } from "../closed-loop.ts";
import { finish, readSpec } from "../worker-io.ts";

export interface NatsLoadSpec {
  url: string;
  subject: string;
  /** Size of each request, about that of a GetSecret request on the bus. */
  payloadBytes: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

const spec = readSpec<NatsLoadSpec>();
const nc = await connect({ servers: spec.url, name: "bench-nats-load" });
const payload = new Uint8Array(spec.payloadBytes).fill(0x61);
const summary = await closedLoop({
  ...spec,
  call: () => nc.request(spec.subject, payload, { timeout: 5_000 }),
});
await nc.close();
finish(summary);
