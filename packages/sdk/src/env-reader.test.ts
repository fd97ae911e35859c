import { describe, expect, it } from "vitest";
import { fakeGateway, recordingLogger } from "../test/fake-gateway.ts";
import { createSecretsClient } from "./client.ts";
import { SecretMissingError, SecretsConfigurationError } from "./errors.ts";

const schema = { DATABASE_URL: "Database connection string", STRIPE_API_KEY: "Stripe API key" } as const;

describe('source: "env"', () => {
  it("reads declared keys from the environment, with the same typing", async () => {
    const env: Record<string, string> = { DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1", OTHER: "x" };
    const secrets = createSecretsClient(schema, { source: "env", env });
    const url: string = await secrets.getSecret("DATABASE_URL");
    expect(url).toBe("postgres://db");
    expect(await secrets.getSecrets()).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
    // @ts-expect-error: OTHER is not declared.
    await expect(secrets.getSecret("OTHER")).rejects.toBeInstanceOf(SecretsConfigurationError);
    env.DATABASE_URL = "postgres://rotated";
    expect(await secrets.getSecret("DATABASE_URL")).toBe("postgres://rotated");
    await secrets.waitUntilReady();
  });

  it("throws the same SecretMissingError for an unset or empty variable", async () => {
    const secrets = createSecretsClient(schema, { source: "env", env: { DATABASE_URL: "" } });
    const error = await secrets.getSecret("DATABASE_URL").catch((e) => e);
    expect(error).toBeInstanceOf(SecretMissingError);
    expect(error).toMatchObject({ secretName: "DATABASE_URL", reason: "ENV_VARIABLE_MISSING" });
    expect(error.message).toContain(
      "Environment variable DATABASE_URL is not set (Database connection string)",
    );
    await expect(secrets.getSecrets()).rejects.toBeInstanceOf(SecretMissingError);
  });

  it("does not wait for the environment to change: waitUntilReady logs what is missing and rejects at once", async () => {
    const { logger, lines } = recordingLogger();
    const secrets = createSecretsClient(schema, { source: "env", env: {}, logger });
    await expect(secrets.waitUntilReady({ timeoutMs: 60_000 })).rejects.toBeInstanceOf(SecretMissingError);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "Secrets not ready: secrets DATABASE_URL, STRIPE_API_KEY are missing: add their values",
      }),
    ]);
  });

  it("uses no gateway and no token", async () => {
    const gateway = fakeGateway();
    const secrets = createSecretsClient(
      schema,
      { source: "env", env: { DATABASE_URL: "a", STRIPE_API_KEY: "b" } },
      {
        transport: gateway.transport,
      },
    );
    await secrets.getSecrets();
    expect(gateway.calls).toEqual([]);
  });
});
