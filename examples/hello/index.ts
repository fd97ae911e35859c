/**
 * The README's first secret: `bun examples/hello/index.ts` next to a running `bun run dev`.
 * It registers its token, waits (telling you what to approve in the dashboard), then reads GREETING.
 */
import { createSecretsClient } from "@secrets/sdk";
import schema from "./secrets.schema.json";

const secrets = createSecretsClient(schema, {
  serviceName: "hello",
  serviceVersion: "1.0.0",
  address: `localhost:${process.env.GRPC_PORT ?? "50051"}`,
  caFile: `${process.env.SECRETS_DATA_DIR ?? "./data"}/tls/ca.crt`,
  dataDir: `${process.env.SECRETS_DATA_DIR ?? "./data"}/hello`,
});

await secrets.waitUntilReady();
const greeting = await secrets.getSecret("GREETING");
// A real service would use the value; this one proves it arrived without printing it.
console.log(`hello: read GREETING (${greeting.length} characters) over gRPC`);
secrets.close();
