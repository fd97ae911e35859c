/**
 * Container healthcheck: `bun services/gateway-grpc/src/healthcheck.ts` exits 0 when this gateway's
 * `grpc.health.v1` Check answers SERVING (the vault answering included), 1 otherwise. It talks to the
 * gateway on its own port; the certificate is not verified, as the probe never leaves the container.
 */
import { credentials, Metadata } from "@grpc/grpc-js";
import { parseConfigOrExit } from "@secrets/config";
import { gatewayConfigSpec } from "./config.ts";
import { HealthClient, ServingStatus } from "./health-proto.ts";

const config = parseConfigOrExit(gatewayConfigSpec, process.env);
const channel = config.grpcInsecure
  ? credentials.createInsecure()
  : credentials.createSsl(null, null, null, { rejectUnauthorized: false });
const client = new HealthClient(`localhost:${config.grpcPort}`, channel);
const serving = await new Promise<boolean>((resolve) => {
  client.check({ service: "" }, new Metadata(), { deadline: Date.now() + 4_000 }, (error, response) =>
    resolve(!error && response.status === ServingStatus.SERVING),
  );
});
client.close();
process.exit(serving ? 0 : 1);
