/**
 * `@secrets/sdk`: what a service imports to get its secrets.
 *
 * - `createSecretsClient(schema, options)`: a client typed by the service's schema (gateway over gRPC, or
 *   `source: "env"` while moving off environment variables), with `getSecret`, `getSecrets`,
 *   `waitUntilReady` and `watch` (changes pushed by the gateway).
 * - `generateServiceToken`: the service's own token, stored once in its data directory.
 * - The errors it throws, one class per situation an operator acts on.
 * - `secretsOptionsFromEnv`: client options from `SECRETS_*` variables.
 *
 * The `secrets` command (generate, combine, check, import-env) lives in `src/cli/`.
 */
export {
  createSecretsClient,
  type SecretsClient,
  type SecretsClientDeps,
  type WaitUntilReadyOptions,
} from "./client.ts";
export {
  AccessDeniedError,
  AccessPendingError,
  SecretMissingError,
  SecretsConfigurationError,
  SecretsError,
  type SecretsErrorDetails,
  SecretsUnavailableError,
  TokenPendingApprovalError,
} from "./errors.ts";
export { jsonLogger, type SecretsLogger, silentSecretsLogger } from "./logger.ts";
export {
  defaults,
  type EnvSourceOptions,
  type GatewaySourceOptions,
  type SecretsClientOptions,
} from "./options.ts";
export { optionVariables, secretsOptionsFromEnv } from "./options-from-env.ts";
export {
  type SchemaEntry,
  type SchemaProblem,
  type SecretKey,
  type SecretsDescriptionMap,
  type SecretsJsonSchema,
  type SecretsSchemaInput,
  validateSchema,
} from "./schema.ts";
export { generateServiceToken, type ServiceToken, tokenFileName } from "./service-token.ts";
export type {
  CallFailure,
  CallResult,
  SecretsTransport,
  WatchedChange,
  WatchHandle,
  WatchHandlers,
} from "./transport.ts";
export type { SecretChange, SecretChangeCallback } from "./watcher.ts";
