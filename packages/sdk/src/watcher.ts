/**
 * `client.watch`: one WatchSecrets stream per client for every watched key, opened again when a key is
 * added and after every failure (with backoff), so changes reach the service within moments of an admin's
 * update. When a stream opens, the gateway sends each key's current version; a version that differs from
 * the last one seen (a change missed while disconnected) is reported like any other change.
 *
 * A change drops the key's cached value (so the next read fetches the new one) and then calls back; with
 * `autoRefresh` the new value is fetched into the cache first. Never a value or a token in a log line.
 */
import { type BackoffPolicy, backoffDelay } from "@secrets/validation";
import { SecretsUnavailableError } from "./errors.ts";
import type { SecretsLogger } from "./logger.ts";
import type { CallFailure, WatchedChange, WatchHandle, WatchHandlers } from "./transport.ts";

/** What a watch callback receives: never the value (read it with `getSecret`). */
export interface SecretChange<K extends string = string> {
  key: K;
  /** The new current version; 0 when the secret was deleted. */
  version: number;
  /** The secret was deleted: reading it now fails. */
  deleted: boolean;
}

export type SecretChangeCallback<K extends string = string> = (
  change: SecretChange<K>,
) => void | Promise<void>;

/** Where the watcher's streams come from and what a change does to the cache (the gateway reader). */
export interface ChangeSource {
  /** Opens a stream of the keys' changes (registering the token first when needed). */
  open(keys: readonly string[], handlers: WatchHandlers): Promise<WatchHandle>;
  /** Makes the next read of `key` fetch it again. */
  forget(key: string): void;
  /** Fetches `key` into the cache now (after `forget`). */
  refresh(key: string): Promise<void>;
  /** The vault does not know the token: register it again before the next stream. */
  reregister(): void;
}

export interface WatcherOptions {
  source: ChangeSource;
  serviceName: string;
  logger: SecretsLogger;
  /** Fetch a changed value into the cache before calling back. */
  autoRefresh: boolean;
  random: () => number;
  /** Delays between reconnection attempts: doubling with jitter. Default 250 ms up to 5 s. */
  backoff?: BackoffPolicy;
  /** Longest delay while waiting cannot help soon (token or access refused). Default 30 s. */
  refusedMaxDelayMs?: number;
}

export interface SecretWatcher {
  /** Calls `callback` on every change of `key` until the returned function is called. */
  watch(key: string, callback: SecretChangeCallback): () => void;
  /** Ends the stream and forgets every callback. */
  close(): void;
}

/** Failures that pass once the gateway, vault or network is back: retried quickly. Others wait longer. */
const transientCodes = new Set([
  "OK",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "RESOURCE_EXHAUSTED",
  "INTERNAL",
  "UNKNOWN",
  "CANCELLED",
  "ABORTED",
]);

export function createSecretWatcher(options: WatcherOptions): SecretWatcher {
  const { source, logger, serviceName } = options;
  const backoff = options.backoff ?? { initialDelayMs: 250, maxDelayMs: 5_000 };
  const refusedMaxDelayMs = options.refusedMaxDelayMs ?? 30_000;
  const callbacks = new Map<string, Set<SecretChangeCallback>>();
  /** The last version each key was seen at (0 after a deletion). */
  const lastSeen = new Map<string, number>();
  /** The keys of the stream open (or opening) now. */
  let streamKeys = new Set<string>();
  let handle: WatchHandle | undefined;
  /** Bumped whenever a stream is replaced, so a late event of an old stream is ignored. */
  let generation = 0;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let reopenQueued = false;
  /** Whether the last stream was lost: the next open is logged as a reconnection. */
  let lost = false;
  let closed = false;
  /** Callbacks run one at a time, in the order the changes arrived. */
  let delivery: Promise<void> = Promise.resolve();

  function stopStream(): void {
    generation++;
    handle?.cancel();
    handle = undefined;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  }

  /** Opens the stream afresh, once per tick however many keys were added in it. */
  function queueReopen(): void {
    if (reopenQueued) return;
    reopenQueued = true;
    queueMicrotask(() => {
      reopenQueued = false;
      reopen();
    });
  }

  function reopen(): void {
    stopStream();
    if (closed || callbacks.size === 0) {
      streamKeys = new Set();
      return;
    }
    const current = ++generation;
    const keys = [...callbacks.keys()].sort();
    streamKeys = new Set(keys);
    const handlers: WatchHandlers = {
      onOpen: () => {
        if (current !== generation) return;
        attempt = 0;
        logger.info("watching secrets", {
          serviceName,
          keys: keys.length,
          ...(lost ? { reconnected: true } : {}),
        });
        lost = false;
      },
      onChange: (change) => {
        if (current === generation) received(change);
      },
      onEnd: (failure) => {
        if (current !== generation) return;
        handle = undefined;
        retry(failure ?? { code: "OK", details: "the gateway ended the stream", reason: "", requestId: "" });
      },
    };
    source.open(keys, handlers).then(
      (opened) => {
        if (current === generation) handle = opened;
        else opened.cancel();
      },
      (error: unknown) => {
        // Registering the token failed, or the token file is unusable: the SDK's own error.
        if (current !== generation) return;
        const reason = (error as { reason?: unknown }).reason;
        retry({
          code:
            error instanceof SecretsUnavailableError
              ? "UNAVAILABLE"
              : error instanceof Error
                ? error.name
                : "ERROR",
          details: error instanceof Error ? error.message : String(error),
          reason: typeof reason === "string" ? reason : "",
          requestId: "",
        });
      },
    );
  }

  function retry(failure: CallFailure): void {
    if (closed) return;
    if (failure.code === "UNAUTHENTICATED" && failure.reason === "") source.reregister();
    const maxDelayMs = transientCodes.has(failure.code) ? backoff.maxDelayMs : refusedMaxDelayMs;
    const delayMs = backoffDelay(
      attempt++,
      { initialDelayMs: backoff.initialDelayMs, maxDelayMs },
      options.random,
    );
    if (!lost) {
      lost = true;
      logger.warn("watch stream lost; reconnecting", {
        serviceName,
        code: failure.code,
        reason: failure.reason,
        requestId: failure.requestId,
        delayMs,
      });
    }
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      reopen();
    }, delayMs);
  }

  function received(change: WatchedChange): void {
    const key = change.secretName;
    if (!callbacks.has(key)) return;
    const previous = lastSeen.get(key);
    if (change.deleted) {
      lastSeen.set(key, 0);
      if (previous !== 0) changed(key, 0, true);
      return;
    }
    lastSeen.set(key, change.version);
    // First sight of a key: whatever is cached was read at an unknown version, so read it again next time.
    if (previous === undefined) source.forget(key);
    else if (previous !== change.version) changed(key, change.version, false);
  }

  function changed(key: string, version: number, deleted: boolean): void {
    source.forget(key);
    delivery = delivery.then(async () => {
      if (options.autoRefresh && !deleted) {
        await source.refresh(key).catch((error: unknown) => {
          logger.warn("could not fetch a changed secret; the next read tries again", {
            serviceName,
            secretName: key,
            error: error instanceof Error ? error.name : "unknown",
          });
        });
      }
      for (const callback of [...(callbacks.get(key) ?? [])]) {
        try {
          await callback({ key, version, deleted });
        } catch (error) {
          // Only the class: a callback's own message might quote a value.
          logger.warn("a secret watch callback failed", {
            serviceName,
            secretName: key,
            error: error instanceof Error ? error.name : "unknown",
          });
        }
      }
    });
  }

  return {
    watch(key, callback) {
      if (closed) return () => {};
      let set = callbacks.get(key);
      if (!set) {
        set = new Set();
        callbacks.set(key, set);
      }
      set.add(callback);
      if (!streamKeys.has(key)) queueReopen();
      return () => {
        const current = callbacks.get(key);
        if (!current?.delete(callback) || current.size > 0) return;
        callbacks.delete(key);
        lastSeen.delete(key);
        // The stream may keep a key nobody watches (its changes are ignored) until the next reopen.
        if (callbacks.size === 0) {
          stopStream();
          streamKeys = new Set();
        }
      };
    },
    close() {
      closed = true;
      stopStream();
      callbacks.clear();
      lastSeen.clear();
    },
  };
}
