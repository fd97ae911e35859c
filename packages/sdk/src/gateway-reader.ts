/**
 * The gateway source: registers the service's token on first use, reads values over gRPC with the
 * schema's description, caches them for the TTL and, if the caller opted in, serves the last value during
 * an outage. A failed call leaves nothing behind: the next call starts afresh (registration included).
 */
import { TokenStatus } from "@secrets/proto/secrets";
import { createSecretCache } from "./cache.ts";
import { type FailureContext, toSecretsError } from "./error-mapping.ts";
import { SecretsConfigurationError, type SecretsError, SecretsUnavailableError } from "./errors.ts";
import { createGrpcTransport } from "./grpc-transport.ts";
import type { SecretsLogger } from "./logger.ts";
import type { ResolvedGatewayOptions } from "./options.ts";
import type { SecretReader } from "./reader.ts";
import { generateServiceToken, type ServiceToken, serviceTokenFingerprint } from "./service-token.ts";
import type { CallFailure, CallResult, SecretsTransport } from "./transport.ts";
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

/** Keys per GetSecrets call (the gateway's limit). */
const batchMaxKeys = 100;
/** Bytes of names and descriptions per GetSecrets call: well inside the gateway's 16 KiB request limit. */
const batchMaxBytes = 12 * 1024;

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
  /** False once the gateway answered UNIMPLEMENTED to GetSecrets (an older gateway). */
  let batchSupported = true;

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
    if (!identity) {
      identity = generateServiceToken({ dataDir: options.dataDir, serviceName });
      // What an admin compares with the fingerprint the dashboard shows before approving this token.
      deps.logger.info(`token fingerprint ${serviceTokenFingerprint(identity.token)}…`, {
        serviceName,
        newToken: identity.created,
        tokenFile: identity.file,
      });
    }
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
      tokenFingerprint: serviceTokenFingerprint(token()),
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

  /** Makes `call` once registered (alongside, for a stored token); when the vault does not know the token, registers again once. */
  async function withRegistration<T>(call: () => Promise<CallResult<T>>): Promise<CallResult<T>> {
    const used = registered();
    let result: CallResult<T>;
    if (identity?.created === false) {
      // A token stored by an earlier run is almost always known already: read while it registers, so a
      // restarting service waits for one round trip, not two. Registration still comes first on the wire.
      [result] = await Promise.all([call(), used]);
    } else {
      await used;
      result = await call();
    }
    if (!result.ok && result.failure.code === "UNAUTHENTICATED" && !result.failure.reason) {
      // The vault does not know the token (its database was reset): register it again, once.
      if (registration === used) registration = undefined;
      await registered();
      result = await call();
    }
    return result;
  }

  async function fetchValue(key: string): Promise<string> {
    const request = { secretName: key, description: descriptions.get(key) ?? "" };
    const result = await withRegistration(() => connection().getSecret(request, token(), timeoutMs));
    if (!result.ok) throw toSecretsError(rememberStubs(key, result.failure), context(key));
    stubs.delete(key);
    return result.response.value;
  }

  /** What one GetSecrets call says about a key; `single`: read it with GetSecret instead. */
  type BatchOutcome = { value: string } | { error: SecretsError } | { single: true };

  /** Reads `keys` (at most one call's worth) with one GetSecrets call, or one GetSecret each without it. */
  async function fetchBatch(keys: readonly string[]): Promise<Map<string, BatchOutcome>> {
    const transport = connection();
    const single = () => new Map(keys.map((key): [string, BatchOutcome] => [key, { single: true }]));
    if (!batchSupported || !transport.getSecrets) return single();
    const request = {
      secrets: keys.map((key) => ({ secretName: key, description: descriptions.get(key) ?? "" })),
    };
    const result = await withRegistration(() =>
      (transport.getSecrets as NonNullable<SecretsTransport["getSecrets"]>)(request, token(), timeoutMs),
    );
    if (!result.ok) {
      // A gateway older than GetSecrets: read one secret at a time from now on.
      if (result.failure.code === "UNIMPLEMENTED") {
        batchSupported = false;
        return single();
      }
      const { failure } = result;
      return new Map(
        keys.map((key): [string, BatchOutcome] => [
          key,
          { error: toSecretsError(rememberStubs(key, failure), context(key)) },
        ]),
      );
    }
    const byName = new Map(result.response.results.map((entry) => [entry.secretName, entry]));
    return new Map(
      keys.map((key): [string, BatchOutcome] => {
        const entry = byName.get(key);
        if (!entry) return [key, { single: true }];
        if (entry.ok) {
          stubs.delete(key);
          return [key, { value: entry.value }];
        }
        // Too large to travel with the others: GetSecret reads it alone.
        if (entry.failure.code === "RESOURCE_EXHAUSTED" && entry.failure.reason === "")
          return [key, { single: true }];
        const failure = { ...entry.failure, requestId: result.requestId };
        return [key, { error: toSecretsError(rememberStubs(key, failure), context(key)) }];
      }),
    );
  }

  /** Splits keys into GetSecrets calls that stay well inside the gateway's 16 KiB request limit. */
  function batches(keys: readonly string[]): string[][] {
    const groups: string[][] = [];
    let current: string[] = [];
    let bytes = 0;
    for (const key of keys) {
      const size = key.length + Buffer.byteLength(descriptions.get(key) ?? "") + 8;
      if (current.length > 0 && (current.length >= batchMaxKeys || bytes + size > batchMaxBytes)) {
        groups.push(current);
        current = [];
        bytes = 0;
      }
      current.push(key);
      bytes += size;
    }
    if (current.length > 0) groups.push(current);
    return groups;
  }

  function closedError(key: string): SecretsConfigurationError {
    return new SecretsConfigurationError("The secrets client is closed", { serviceName, secretName: key });
  }

  /** The cached value while it is fresh and no change of the key was announced since. */
  function freshValue(key: string): string | undefined {
    const cached = keepValues ? cache.get(key) : undefined;
    return cached?.fresh && !outdated.has(key) ? cached.value : undefined;
  }

  /** Starts a read of `key` that concurrent readers join; its value is cached unless the key changed meanwhile. */
  function track(key: string, fetch: () => Promise<string>): Promise<string> {
    const generation = generations.get(key) ?? 0;
    const current: Promise<string> = fetch()
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
    inFlight.set(key, current);
    return current;
  }

  /** The read's value; during an outage the last value, for a client that opted in. */
  async function settle(key: string, pending: Promise<string>): Promise<string> {
    try {
      return await pending;
    } catch (error) {
      const stale = options.serveStaleOnError ? cache.get(key) : undefined;
      if (!(error instanceof SecretsUnavailableError) || !stale) throw error;
      // Too old: it may have been rotated or revoked since; the outage is the caller's to handle now.
      if (stale.ageMs > options.maxStaleMs) throw error;
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

  async function read(key: string): Promise<string> {
    if (closed) throw closedError(key);
    const fresh = freshValue(key);
    if (fresh !== undefined) return fresh;
    return settle(key, inFlight.get(key) ?? track(key, () => fetchValue(key)));
  }

  /** Every key at once: fresh values from memory, reads under way joined, the rest in GetSecrets calls. */
  async function readMany(keys: readonly string[]): Promise<PromiseSettledResult<string>[]> {
    if (closed) return keys.map((key) => ({ status: "rejected", reason: closedError(key) }));
    const pending = new Map<string, Promise<string>>();
    const toFetch: string[] = [];
    for (const key of new Set(keys)) {
      const fresh = freshValue(key);
      const joined = inFlight.get(key);
      if (fresh !== undefined) pending.set(key, Promise.resolve(fresh));
      else if (joined) pending.set(key, joined);
      else toFetch.push(key);
    }
    for (const group of batches(toFetch)) {
      const batch = fetchBatch(group);
      for (const key of group) {
        pending.set(
          key,
          track(key, async () => {
            const outcome = (await batch).get(key) ?? { single: true };
            if ("value" in outcome) return outcome.value;
            if ("error" in outcome) throw outcome.error;
            return fetchValue(key);
          }),
        );
      }
    }
    return Promise.allSettled(keys.map((key) => settle(key, pending.get(key) ?? read(key))));
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
    readMany,
    close() {
      closed = true;
      cache.clear();
      transport?.close();
    },
  };
}
