/**
 * Load generator on the bus itself: closed-loop GetSecret requests to the vault over NATS, as a gateway
 * sends them but without gRPC in front. With the end-to-end figure it splits the time between the gateway
 * and the vault.
 *
 *   bun bench/workers/bus-load.ts '<BusLoadSpec as JSON>'
 */
import { connectNatsBus, request, serviceOperations } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { ReplyKeyPair, sealedReplyContext } from "@secrets/sealing";
import { closedLoop } from "../closed-loop.ts";
import { finish, readSpec } from "../worker-io.ts";

export interface BusLoadSpec {
  natsUrl: string;
  namespace: string;
  token: string;
  secretName: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

const spec = readSpec<BusLoadSpec>();
const bus = await connectNatsBus({
  url: spec.natsUrl,
  namespace: spec.namespace,
  logger: silentLogger,
  name: "bench-bus-load",
});
const caller = { requestId: "bench", ipAddress: "127.0.0.1", userAgent: "bench-bus-load" };
// As a gateway asks: the value comes back sealed to this key, and is opened here.
const keys = new ReplyKeyPair();
const summary = await closedLoop({
  ...spec,
  call: async () => {
    const reply = await request(
      bus,
      serviceOperations.getSecret,
      { secretName: spec.secretName, description: "", token: spec.token, caller, replyKey: keys.publicKey },
      { timeoutMs: 10_000 },
    );
    if (reply.sealed) keys.open(reply.sealed, sealedReplyContext(spec.secretName, caller.requestId));
  },
});
await bus.close();
finish(summary);
