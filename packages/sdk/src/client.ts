/**
 * `createSecretsClient`: a client typed by the service's schema. It accepts only declared keys (checked
 * by the compiler, and again at run time for plain JavaScript callers).
 */
import { backoffDelay, sleep } from "@secrets/validation";
import { createEnvReader } from "./env-reader.ts";
import { SecretsConfigurationError, SecretsError } from "./errors.ts";
import { createGatewayReader } from "./gateway-reader.ts";
import { jsonLogger, type SecretsLogger } from "./logger.ts";
import { resolveGatewayOptions, type SecretsClientOptions } from "./options.ts";
import type { SecretReader } from "./reader.ts";
import { readinessState } from "./readiness.ts";
import { describeProblems, type SecretKey, type SecretsSchemaInput, validateSchema } from "./schema.ts";
import type { SecretsTransport } from "./transport.ts";
import { createSecretWatcher, type SecretChangeCallback, type SecretWatcher } from "./watcher.ts";

export interface WaitUntilReadyOptions {
  /** Give up after this long, rejecting with the error most worth acting on. Default: wait for ever. */
  timeoutMs?: number;
  /** Give up when it aborts, rejecting with its reason. */
  signal?: AbortSignal;
  /** First delay between polls. Default 500 ms; delays double (with jitter) up to `maxDelayMs`. */
  initialDelayMs?: number;
  /** Longest delay between polls, so an admin's approval is noticed within it. Default 15 000 ms. */
  maxDelayMs?: number;
}

export interface SecretsClient<K extends string> {
  /** The declared keys, in schema order. */
  readonly keys: readonly K[];
  /** The value of a declared key. Rejects with one of the SDK's errors (a SecretsError). */
  getSecret(key: K): Promise<string>;
  /** Every declared key's value at once; rejects with the first key's error when one cannot be read. */
  getSecrets(): Promise<{ [P in K]: string }>;
  /**
   * Resolves once every declared secret is readable. Until then it polls with exponential backoff and
   * jitter and logs, once per distinct state, what an admin must approve or add. Rejects at once when
   * waiting cannot help (a denied token, a configuration problem, a missing environment variable).
   */
  waitUntilReady(options?: WaitUntilReadyOptions): Promise<void>;
  /**
   * Calls `callback` whenever an admin changes, rolls back or deletes the secret (never with its value),
   * within moments, over one stream per client shared by every watched key. The key's cached value is
   * dropped first (with `autoRefresh`, the new one is fetched), so a `getSecret` in the callback returns
   * the new value. The stream reconnects on its own and reports changes missed meanwhile. Returns the
   * function that stops watching. With `source: "env"` nothing changes, so nothing is ever called.
   *
   * @example
   * const stop = secrets.watch("DATABASE_URL", async () => pool.reconnect(await secrets.getSecret("DATABASE_URL")));
   */
  watch(key: K, callback: SecretChangeCallback<K>): () => void;
  /** Closes the connection, ends watching and forgets cached values; later calls reject. */
  close(): void;
}

/** What tests replace: nothing here is needed in production. */
export interface SecretsClientDeps {
  transport?: SecretsTransport;
  now?: () => number;
  random?: () => number;
}

const userAgent = "secrets-sdk/0.1.0";

function toSecretsError(error: unknown): SecretsError {
  if (error instanceof SecretsError) return error;
  return new SecretsError(`Unexpected failure reading a secret: ${String(error)}`, { cause: error });
}

/**
 * A client for the secrets a schema declares: the content of `secrets.schema.json` (or the generated
 * `secretsSchema`), or a `{ KEY: "description" }` map.
 *
 * @example
 * const secrets = createSecretsClient(secretsSchema, { serviceName: "orders", caFile: "/etc/secrets/ca.crt" });
 * await secrets.waitUntilReady();
 * const password = await secrets.getSecret("ORDERS_DB_PASSWORD");
 */
export function createSecretsClient<const S extends SecretsSchemaInput>(
  schema: S,
  options: SecretsClientOptions,
  deps: SecretsClientDeps = {},
): SecretsClient<SecretKey<S>> {
  type K = SecretKey<S>;
  const { entries, problems } = validateSchema(schema);
  if (problems.length > 0) {
    throw new SecretsConfigurationError(`Invalid secrets schema: ${describeProblems(problems)}`, {
      reason: "INVALID_SCHEMA",
    });
  }
  const keys = entries.map((entry) => entry.key) as K[];
  const descriptions: ReadonlyMap<string, string> = new Map(entries.map((e) => [e.key, e.description]));
  const logger: SecretsLogger = options.logger ?? jsonLogger();
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const reader: SecretReader =
    options.source === "env"
      ? createEnvReader(options.env ?? process.env, descriptions)
      : createGatewayReader(resolveGatewayOptions(options), descriptions, {
          logger,
          now,
          transport: deps.transport,
          userAgent,
        });

  const undeclared = (key: string) =>
    new SecretsConfigurationError(
      `${key} is not declared in the secrets schema: add it to secrets.schema.json (and run \`secrets generate\`)`,
      { secretName: key, serviceName: reader.serviceName, reason: "UNDECLARED_KEY" },
    );

  function getSecret(key: K): Promise<string> {
    if (!descriptions.has(key)) return Promise.reject(undeclared(String(key)));
    return reader.read(key);
  }

  let watcher: SecretWatcher | undefined;
  function watch(key: K, callback: SecretChangeCallback<K>): () => void {
    if (!descriptions.has(key)) throw undeclared(String(key));
    const changes = reader.changes;
    if (!changes) return () => {};
    watcher ??= createSecretWatcher({
      source: changes,
      serviceName: reader.serviceName,
      logger,
      autoRefresh: options.source !== "env" && options.autoRefresh === true,
      random,
    });
    return watcher.watch(key, callback as SecretChangeCallback);
  }

  async function readAll(): Promise<{
    values: Map<string, string>;
    failures: { key: string; error: SecretsError }[];
  }> {
    // One GetSecrets call for every key where the gateway offers it, so a starting service waits for one
    // round trip instead of one per secret.
    const results = reader.readMany
      ? await reader.readMany(keys)
      : await Promise.allSettled(keys.map((key) => reader.read(key)));
    const values = new Map<string, string>();
    const failures: { key: string; error: SecretsError }[] = [];
    results.forEach((result, index) => {
      const key = keys[index] as string;
      if (result.status === "fulfilled") values.set(key, result.value);
      else failures.push({ key, error: toSecretsError(result.reason) });
    });
    return { values, failures };
  }

  async function getSecrets(): Promise<{ [P in K]: string }> {
    const { values, failures } = await readAll();
    if (failures[0]) throw failures[0].error;
    return Object.fromEntries(values) as { [P in K]: string };
  }

  async function waitUntilReady(wait: WaitUntilReadyOptions = {}): Promise<void> {
    const deadline = wait.timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + wait.timeoutMs;
    const backoff = {
      initialDelayMs: wait.initialDelayMs ?? 500,
      maxDelayMs: wait.maxDelayMs ?? 15_000,
    };
    const logged = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      wait.signal?.throwIfAborted();
      const { failures } = await readAll();
      if (failures.length === 0) {
        if (logged.size > 0)
          logger.info("secrets ready", { serviceName: reader.serviceName, keys: keys.length });
        return;
      }
      const state = readinessState(reader.serviceName, failures, reader.canWait);
      if (!logged.has(state.signature)) {
        logged.add(state.signature);
        logger.warn(state.message, state.fields);
      }
      const remaining = deadline - now();
      if (state.fatal || remaining <= 0) throw state.blocking;
      await sleep(Math.min(backoffDelay(attempt, backoff, random), remaining), wait.signal);
    }
  }

  return {
    keys,
    getSecret,
    getSecrets,
    waitUntilReady,
    watch,
    close() {
      watcher?.close();
      reader.close();
    },
  };
}
