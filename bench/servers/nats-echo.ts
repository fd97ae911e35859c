/**
 * Baseline B: a bare NATS responder (nats.js, a queue group, no envelope, no decoding) that answers each
 * request with its own payload. Against it the load generator measures one request-reply round trip.
 *
 *   bun bench/servers/nats-echo.ts '<NatsEchoSpec as JSON>'
 */
import { connect } from "nats";
import { announceReady, readSpec } from "../worker-io.ts";

export interface NatsEchoSpec {
  url: string;
  subject: string;
}

const spec = readSpec<NatsEchoSpec>();
const nc = await connect({ servers: spec.url, name: "bench-nats-echo" });
nc.subscribe(spec.subject, { queue: "echo", callback: (_error, msg) => msg.respond(msg.data) });
await nc.flush();
announceReady({ subject: spec.subject });
process.on("SIGTERM", () => void nc.drain().then(() => process.exit(0)));
