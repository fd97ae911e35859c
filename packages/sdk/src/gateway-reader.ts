/**
 * The gateway source: registers the service's token on first use, reads values over gRPC with the
 * schema's description, caches them for the TTL and, if the caller opted in, serves the last value during
 * an outage. A failed call leaves nothing behind: the next call starts afresh (registration included).
 */
import { TokenStatus } from "@secrets/proto/secrets";
import { createSecretCache } from "./cache.ts";
import { type FailureContext, toSecretsError } from "./error-mapping.ts";
import { SecretsConfigurationError, SecretsUnavailableError } from "./errors.ts";
import { createGrpcTransport } from "./grpc-transport.ts";
import type { SecretsLogger } from "./logger.ts";
import type { ResolvedGatewayOptions } from "./options.ts";
import type { SecretReader } from "./reader.ts";
import { generateServiceToken, type ServiceToken } from "./service-token.ts";
import type { CallFailure, SecretsTransport } from "./transport.ts";
import type { ChangeSource } from "./watcher.ts";

export interface GatewayReaderDeps {
  logger: SecretsLogger;
  now: () => number;
  /** Default: grpc-js to `options.address`, created on first use. */
  transport?: SecretsTransport;
  userAgent: string;
}

const tokenStatusNames: Partial<Record<TokenStatus, string>> = {
  [TokenStatus.PENDING_APPROVAL]: "pending_approval",
  [TokenStatus.APPROVED]: "approved",
  [TokenStatus.DENIED]: "denied",
};

export function createGatewayReader(
  options: ResolvedGatewayOptions,
  descriptions: ReadonlyMap<string, string>,
  deps: GatewayReaderDeps,
): SecretReader {
  const { serviceName, timeoutMs } = options;
  const cache = createSecretCache({ ttlMs: options.cacheTtlMs, now: deps.now });
  const keepValues = options.cacheTtlMs > 0 || options.serveStaleOnError;
  const inFlight = new Map<string, Promise<string>>();
  /** Keys whose stale value was served since their last successful read (warned once per outage). */
  const servingStale = new Set<string>();
  /** Keys this client saw created as stubs, still without a value as far as it knows. */
  const stubs = new Set<string>();
  /** Keys changed since their value was cached (watch): read again, the old value kept only as stale. */
  const outdated = new Set<string>();
  /** Bumped when a key changes, so a read that started before the change does not cache the old value. */
  const generations = new Map<string, number>();
  let transport: SecretsTransport | undefined = deps.transport;
  let identity: ServiceToken | undefined;
  let registration: Promise<void> | undefined;
  let closed = false;

  const tokenFile = () => identity?.file ?? `${options.dataDir}/service-token`;
  const context = (secretName: string): FailureContext => ({
    serviceName,
    secretName,
    address: options.address,
    tokenFile: tokenFile(),
    timeoutMs,
  });

  function connection(): SecretsTransport {
    transport ??= createGrpcTransport({
      address: options.address,
      caFile: options.caFile,
      tlsServerName: options.tlsServerName,
      insecure: options.insecure,
      userAgent: deps.userAgent,
    });
    return transport;
  }

  function token(): string {
    identity ??= generateServiceToken({ dataDir: options.dataDir, serviceName });
    return identity.token;
  }

  async function register(): Promise<void> {
    const result = await connection().registerToken(
      { serviceName, serviceVersion: options.serviceVersion },
      token(),
      timeoutMs,
    );
    if (!result.ok) throw toSecretsError(result.failure, context(""));
    deps.logger.info("service token registered", {
      serviceName,
      status: tokenStatusNames[result.response.status] ?? "unknown",
      newToken: identity?.created ?? false,
      tokenFile: tokenFile(),
    });
  }

  /** One registration per client, shared by concurrent calls; a failed one is forgotten. */
  function registered(): Promise<void> {
    if (!registration) {
      const attempt = register();
      registration = attempt;
      attempt.catch(() => {
        if (registration === attempt) registration = undefined;
      });
    }
    return registration;
  }

  /**
   * A stub's access request is pending too, so after SECRET_STUB_CREATED the gateway answers
   * ACCESS_PENDING even while the value is still missing: the key stays reported as missing until the
   * gateway says something else.
   */
  function rememberStubs(key: string, failure: CallFailure): CallFailure {
    if (failure.reason === "SECRET_STUB_CREATED") stubs.add(key);
    else if (failure.reason === "ACCESS_PENDING" && stubs.has(key))
      return { ...failure, reason: "SECRET_STUB_CREATED" };
    else stubs.delete(key);
    return failure;
  }

  async function fetchValue(key: string): Promise<string> {
    const request = { secretName: key, description: descriptions.get(key) ?? "" };
    const used = registered();
    await used;
    let result = await connection().getSecret(request, token(), timeoutMs);
    if (!result.ok && result.failure.code === "UNAUTHENTICATED" && !result.failure.reason) {
      // The vault does not know the token (its database was reset): register it again, once.
      if (registration === used) registration = undefined;
      await registered();
      result = await connection().getSecret(request, token(), timeoutMs);
    }
    if (!result.ok) throw toSecretsError(rememberStubs(key, result.failure), context(key));
    stubs.delete(key);
    return result.response.value;
  }

  async function read(key: string): Promise<string> {
    if (closed) {
      throw new SecretsConfigurationError("The secrets client is closed", { serviceName, secretName: key });
    }
    const cached = keepValues ? cache.get(key) : undefined;
    if (cached?.fresh && !outdated.has(key)) return cached.value;
    let pending = inFlight.get(key);
    if (!pending) {
      const generation = generations.get(key) ?? 0;
      const current: Promise<string> = fetchValue(key)
        .then((value) => {
          if (generation === (generations.get(key) ?? 0)) {
            if (keepValues && !closed) cache.set(key, value);
            outdated.delete(key);
          }
          servingStale.delete(key);
          return value;
        })
        .finally(() => {
          if (inFlight.get(key) === current) inFlight.delete(key);
        });
      pending = current;
      inFlight.set(key, current);
    }
    try {
      return await pending;
    } catch (error) {
      const stale = options.serveStaleOnError ? cache.get(key) : undefined;
      if (!(error instanceof SecretsUnavailableError) || !stale) throw error;
      if (!servingStale.has(key)) {
        servingStale.add(key);
        deps.logger.warn("serving the last value read while secrets are unavailable", {
          serviceName,
          secretName: key,
          ageMs: stale.ageMs,
          reason: error.reason,
        });
      }
      return stale.value;
    }
  }

  /** A changed key: the next read fetches it (a read already under way is not joined nor cached). */
  function forget(key: string): void {
    generations.set(key, (generations.get(key) ?? 0) + 1);
    inFlight.delete(key);
    // The old value stays only for a client that asked for stale values during outages.
    if (options.serveStaleOnError) outdated.add(key);
    else cache.delete(key);
  }

  const changes: ChangeSource = {
    async open(keys, handlers) {
      const current = connection();
      if (!current.watchSecrets) {
        throw new SecretsConfigurationError("The secrets transport in use cannot watch secrets", {
          serviceName,
          reason: "WATCH_UNSUPPORTED",
        });
      }
      await registered();
      return current.watchSecrets({ secretNames: keys }, token(), handlers);
    },
    forget,
    async refresh(key) {
      await read(key);
    },
    reregister() {
      registration = undefined;
    },
  };

  return {
    serviceName,
    canWait: true,
    changes,
    read,
    close() {
      closed = true;
      cache.clear();
      transport?.close();
    },
  };
}
