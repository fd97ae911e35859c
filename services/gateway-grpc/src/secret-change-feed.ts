/**
 * The gateway's one subscription to the vault's `SecretChanged` events, shared by every WatchSecrets
 * stream: N streams cost one NATS subscription, not N. The subscription lives as long as the gateway, so
 * a vault restart loses nothing here (the vault publishes only after it commits, whenever it is up).
 *
 * Core NATS does not keep messages for a subscriber that is disconnected, so after the bus reconnects
 * listeners are told to re-check everything they watch (`resync`): a change published meanwhile is not
 * lost, only late.
 */
import { type Bus, type Subscription, secretChangedTopic, subscribe } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { SecretChanged } from "@secrets/proto/vault";

export interface SecretChangeListener {
  /** A secret changed (value set, rolled back, or deleted). */
  change(change: SecretChanged): void;
  /** The bus was disconnected: changes may have been missed, so check everything again. */
  resync(): void;
}

export interface SecretChangeFeed {
  /** Tells `listener` of every change until the returned function is called. */
  listen(listener: SecretChangeListener): () => void;
  /** Ends the subscription; listeners hear nothing more. */
  close(): Promise<void>;
}

export interface SecretChangeFeedDeps {
  bus: Bus;
  logger: Logger;
  /** How often the bus's connection is checked for a reconnection; default 1 s. */
  connectionCheckMs?: number;
}

export function createSecretChangeFeed(deps: SecretChangeFeedDeps): SecretChangeFeed {
  const listeners = new Set<SecretChangeListener>();
  const tell = (what: string, call: (listener: SecretChangeListener) => void) => {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        deps.logger.error("a secret change listener failed", { what, error });
      }
    }
  };
  const subscription: Subscription = subscribe(
    deps.bus,
    secretChangedTopic,
    (change) => tell(change.secretName, (listener) => listener.change(change)),
    (error) => deps.logger.warn("ignored a malformed secret change event", { error }),
  );
  let connected = deps.bus.isConnected();
  const connectionCheck = setInterval(() => {
    const now = deps.bus.isConnected();
    if (now && !connected && listeners.size > 0) {
      deps.logger.info("bus reconnected: re-checking every watched secret", { streams: listeners.size });
      tell("resync", (listener) => listener.resync());
    }
    connected = now;
  }, deps.connectionCheckMs ?? 1_000);
  connectionCheck.unref?.();
  return {
    listen(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      clearInterval(connectionCheck);
      listeners.clear();
      await subscription.unsubscribe();
    },
  };
}
