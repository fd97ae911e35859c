/**
 * @secrets/gateway-grpc: the network-facing gRPC gateway for `secrets.v1.SecretsService`.
 *
 * - `gatewayConfigSpec` / `parseGatewayConfig`: the environment variables it reads.
 * - `createGatewayServer`: the grpc-js server with SecretsService and grpc.health.v1, not bound.
 * - `loadServerTls` / `ensureGeneratedTls`: TLS from files, generated once, or plaintext.
 * - `reasonMetadataKey` / `requestIdMetadataKey`: the metadata keys clients read.
 *
 * The process itself is `src/main.ts`.
 */
export { type GatewayConfig, gatewayConfigSpec, parseGatewayConfig } from "./config.ts";
export { healthServiceNames } from "./health.ts";
export {
  createGatewayServer,
  defaultMaxMessageBytes,
  type GatewayDeps,
  type GatewayServer,
} from "./server.ts";
export { gatewayServerOptions } from "./server-options.ts";
export { reasonMetadataKey, requestIdMetadataKey } from "./status-map.ts";
export { loadServerTls, type TlsSetup, TlsSetupError } from "./tls.ts";
export { ensureGeneratedTls, type GeneratedTls, tlsFiles } from "./tls-store.ts";
