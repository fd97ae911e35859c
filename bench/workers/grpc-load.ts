/**
 * Load generator for gRPC: closed-loop calls of one SecretsService method, spread over one channel per
 * target (several gateways, or the bare echo server). The same code drives the echo baseline and the
 * gateways, so the two differ only in what answers.
 *
 *   bun bench/workers/grpc-load.ts '<GrpcLoadSpec as JSON>'
 */
import { readFileSync } from "node:fs";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { type GetSecretsResponse, SecretsServiceClient } from "@secrets/proto/secrets";
import { closedLoop } from "../closed-loop.ts";
import { finish, readSpec } from "../worker-io.ts";

export interface GrpcLoadSpec {
  /** `localhost:<port>` of each target; worker i calls target i mod n. */
  targets: string[];
  /** The CA that signed the targets' certificates. */
  caFile: string;
  method: "getSecret" | "getSecrets" | "registerToken";
  token: string;
  /** GetSecret: the secret read. */
  secretName: string;
  /** GetSecrets: the secrets read in each call. */
  secretNames?: string[];
  /** RegisterToken: the service the token belongs to. */
  serviceName: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Return every latency, for the harness to merge interleaved runs. */
  keepLatencies?: boolean;
}

const spec = readSpec<GrpcLoadSpec>();
const ca = readFileSync(spec.caFile);
const clients = spec.targets.map((target) => new SecretsServiceClient(target, credentials.createSsl(ca)));

await Promise.all(
  clients.map(
    (client) =>
      new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
      ),
  ),
);

const callTimeoutMs = 10_000;
const settle =
  <T>(resolve: (value: T) => void, reject: (error: Error) => void) =>
  (error: ServiceError | null, response?: T) =>
    error || response === undefined ? reject(error ?? new Error("empty response")) : resolve(response);

function call(worker: number): Promise<unknown> {
  const client = clients[worker % clients.length] as SecretsServiceClient;
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${spec.token}`);
  const options = { deadline: new Date(Date.now() + callTimeoutMs) };
  return new Promise((resolve, reject) => {
    if (spec.method === "getSecret") {
      client.getSecret(
        { secretName: spec.secretName, description: "", token: "" },
        metadata,
        options,
        settle(resolve, reject),
      );
    } else if (spec.method === "getSecrets") {
      client.getSecrets(
        {
          secrets: (spec.secretNames ?? []).map((secretName) => ({ secretName, description: "" })),
          token: "",
        },
        metadata,
        options,
        settle<GetSecretsResponse>((response) => {
          const failed = response.results.find((result) => !result.success);
          if (failed)
            reject(new Error(`${failed.secretName}: ${failed.reason || failed.code} ${failed.errorMessage}`));
          else resolve(response);
        }, reject),
      );
    } else {
      client.registerToken(
        { serviceName: spec.serviceName, serviceVersion: "bench", token: spec.token },
        new Metadata(),
        options,
        settle(resolve, reject),
      );
    }
  });
}

const cpuBefore = process.cpuUsage();
const summary = await closedLoop({ ...spec, call });
const cpu = process.cpuUsage(cpuBefore);
for (const client of clients) client.close();
finish({ ...summary, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
