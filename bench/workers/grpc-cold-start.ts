/**
 * The baseline of the SDK cold start: a new process that loads grpc-js and makes one call to the bare
 * echo server over TLS. Same clock as `sdk-cold-start.ts`.
 *
 *   bun bench/workers/grpc-cold-start.ts '<GrpcColdStartSpec as JSON>'
 */
import { readFileSync } from "node:fs";
import { finish, readSpec } from "../worker-io.ts";
import type { ColdStartResult } from "./sdk-cold-start.ts";

export interface GrpcColdStartSpec {
  address: string;
  caFile: string;
}

const bootMs = performance.now();
const spec = readSpec<GrpcColdStartSpec>();
const { credentials, Metadata } = await import("@grpc/grpc-js");
const { SecretsServiceClient } = await import("@secrets/proto/secrets");
const imported = performance.now();
const client = new SecretsServiceClient(spec.address, credentials.createSsl(readFileSync(spec.caFile)));
await new Promise((resolve, reject) =>
  client.getSecret({ secretName: "ECHO", description: "", token: "" }, new Metadata(), (error, response) =>
    error ? reject(error) : resolve(response),
  ),
);
const done = performance.now();
client.close();
const result: ColdStartResult = {
  bootMs,
  importMs: imported - bootMs,
  workMs: done - imported,
  totalMs: done,
  values: 1,
};
finish(result);
