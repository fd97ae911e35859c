/**
 * The keys of the approved service tokens (`@secrets/bus` approvedTokenKey), fetched from the vault at
 * start, again whenever the vault announces a token's status changed, and every `refreshMs` in case an
 * announcement was missed. A call whose token has a key here never spends its address's budget, so a
 * flood of bad tokens from one address (a NAT, a load balancer) cannot lock out the approved services
 * behind it. Keys learnt from the vault's answers cover tokens approved since the last fetch.
 */
import {
  approvedTokenKey,
  type Bus,
  request,
  type Subscription,
  serviceOperations,
  serviceTokensChangedTopic,
  subscribe,
  unpackApprovedTokenKeys,
} from "@secrets/bus";
import type { Logger } from "@secrets/logger";

export interface ApprovedTokens {
  /** True when the token with this hex SHA-256 was approved at the last look. */
  has(tokenHash: string): boolean;
  /** The vault authenticated this token: approved until the vault says otherwise. */
  learn(tokenHash: string): void;
  /** The vault refused this token: it is approved no more. */
  forget(tokenHash: string): void;
}

export interface ApprovedTokenKeysDeps {
  bus: Bus;
  logger: Logger;
  /** How often the keys are fetched even without an announcement; default 30 s. */
  refreshMs?: number;
  /** Longest wait for the vault's answer; default 5 s. */
  timeoutMs?: number;
}

export function createApprovedTokens(deps: ApprovedTokenKeysDeps): ApprovedTokens & {
  /** Fetches the keys now; resolves true once they are in place. */
  refresh(): Promise<boolean>;
  close(): Promise<void>;
} {
  let fetched = new Set<number>();
  /** Keys learnt from the vault's answers since the fetch in flight started. */
  let learnt = new Set<number>();
  let inFlight: Promise<boolean> | undefined;
  let again = false;
  let warned = false;

  async function fetchOnce(): Promise<boolean> {
    learnt = new Set();
    try {
      const reply = await request(
        deps.bus,
        serviceOperations.approvedTokenKeys,
        {},
        {
          timeoutMs: deps.timeoutMs ?? 5_000,
        },
      );
      const keys = new Set(unpackApprovedTokenKeys(reply.keys));
      for (const key of learnt) keys.add(key);
      fetched = keys;
      if (warned || reply.omitted > 0)
        deps.logger.info("approved token keys fetched", { keys: keys.size, omitted: reply.omitted });
      warned = false;
      return true;
    } catch (error) {
      // Until the vault answers, approved tokens are told apart by the vault's answers alone.
      if (!warned) deps.logger.warn("cannot fetch the approved token keys; retrying", { error });
      warned = true;
      return false;
    }
  }

  function refresh(): Promise<boolean> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = fetchOnce().finally(() => {
      inFlight = undefined;
      if (again) {
        again = false;
        void refresh();
      }
    });
    return inFlight;
  }

  const subscription: Subscription = subscribe(
    deps.bus,
    serviceTokensChangedTopic,
    () => void refresh(),
    (error) => deps.logger.warn("ignored a malformed service-tokens-changed event", { error }),
  );
  const timer = setInterval(() => void refresh(), deps.refreshMs ?? 30_000);
  timer.unref?.();
  void refresh();

  return {
    has: (tokenHash) => fetched.has(approvedTokenKey(tokenHash)),
    learn(tokenHash) {
      const key = approvedTokenKey(tokenHash);
      fetched.add(key);
      learnt.add(key);
    },
    forget(tokenHash) {
      const key = approvedTokenKey(tokenHash);
      fetched.delete(key);
      learnt.delete(key);
    },
    refresh,
    async close() {
      clearInterval(timer);
      await subscription.unsubscribe();
    },
  };
}
