/**
 * SDK cold start: a new process that reads 20 secrets through `@secrets/sdk`, as a service does when it
 * starts. `performance.now()` counts from the process's start under Bun, so the figures split into the
 * runtime's boot, loading the SDK (grpc-js included), and the SDK's own work (token file, TLS connection,
 * registration, reads).
 *
 *   bun bench/workers/sdk-cold-start.ts '<SdkColdStartSpec as JSON>'
 */
import { finish, readSpec } from "../worker-io.ts";

export interface SdkColdStartSpec {
  address: string;
  caFile: string;
  /** Holds the service's approved token (`service-token`). */
  dataDir: string;
  serviceName: string;
  keys: string[];
}

export interface ColdStartResult {
  /** From the process's start until this module's code runs (runtime boot, before any import of ours). */
  bootMs: number;
  /** Loading the client library (the SDK and grpc-js, or grpc-js alone for the baseline). */
  importMs: number;
  /** From the client's creation until every value is in hand. */
  workMs: number;
  /** From the process's start until every value is in hand. */
  totalMs: number;
  values: number;
}

const bootMs = performance.now();
const spec = readSpec<SdkColdStartSpec>();
const { createSecretsClient, silentSecretsLogger } = await import("@secrets/sdk");
const imported = performance.now();
const schema = Object.fromEntries(spec.keys.map((key) => [key, `bench secret ${key}`]));
const client = createSecretsClient(schema, {
  serviceName: spec.serviceName,
  address: spec.address,
  caFile: spec.caFile,
  dataDir: spec.dataDir,
  logger: silentSecretsLogger,
});
const values = await client.getSecrets();
const done = performance.now();
client.close();
const result: ColdStartResult = {
  bootMs,
  importMs: imported - bootMs,
  workMs: done - imported,
  totalMs: done,
  values: Object.keys(values).length,
};
finish(result);
