/**
 * `source: "env"`: the declared keys read from environment variables, with the gateway source's typing
 * and errors (an unset or empty variable is a SecretMissingError), so a codebase can switch service by
 * service.
 */
import { SecretMissingError } from "./errors.ts";
import type { SecretReader } from "./reader.ts";

export function createEnvReader(
  env: Readonly<Record<string, string | undefined>>,
  descriptions: ReadonlyMap<string, string>,
): SecretReader {
  return {
    serviceName: "",
    canWait: false,
    async read(key) {
      const value = env[key];
      if (value === undefined || value === "") {
        throw new SecretMissingError(
          `Environment variable ${key} is not set (${descriptions.get(key) ?? "declared in the schema"}): set it, ` +
            'or read secrets from the gateway (source "grpc")',
          { secretName: key, reason: "ENV_VARIABLE_MISSING" },
        );
      }
      return value;
    },
    close() {},
  };
}
