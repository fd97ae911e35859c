/**
 * Baseline A: a bare grpc-js server on Bun with the gateway's TLS material and the same service
 * definition, answering each unary call at once from the request alone (no bus, no vault). What the
 * load generator measures against it is the cost of gRPC and TLS themselves.
 *
 *   bun bench/servers/grpc-echo.ts '<GrpcEchoSpec as JSON>'
 */
import { readFileSync } from "node:fs";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { type SecretsServiceServer, SecretsServiceService, TokenStatus } from "@secrets/proto/secrets";
import { announceReady, readSpec } from "../worker-io.ts";

export interface GrpcEchoSpec {
  certFile: string;
  keyFile: string;
}

const spec = readSpec<GrpcEchoSpec>();
const server = new Server({ "grpc.max_receive_message_length": 16 * 1024 });
const implementation: SecretsServiceServer = {
  getSecret: (call, callback) =>
    callback(null, { value: call.request.secretName, success: true, errorMessage: "" }),
  registerToken: (_call, callback) => callback(null, { status: TokenStatus.APPROVED, message: "echo" }),
  getSecrets: (call, callback) =>
    callback(null, {
      results: call.request.secrets.map((secret) => ({
        secretName: secret.secretName,
        value: secret.secretName,
        success: true,
        code: 0,
        reason: "",
        errorMessage: "",
      })),
    }),
  watchSecrets: (call) => call.end(),
};
server.addService(SecretsServiceService, implementation);
const credentials = ServerCredentials.createSsl(null, [
  { cert_chain: readFileSync(spec.certFile), private_key: readFileSync(spec.keyFile) },
]);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
);
announceReady({ port });
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
