/**
 * The budgets every call that authenticates a service token spends (GetSecret, GetSecrets, WatchSecrets),
 * keyed by what the caller presents, so nobody's failures refuse another caller's valid token:
 *
 * - an approved token (its key is among the approved token keys) spends nothing: a flood from its address
 *   does not touch it;
 * - any other token spends one from its own refusal budget (per token hash: a pending, denied or revoked
 *   token is refused by the vault at most that often) and one from its client address's budget of unknown
 *   tokens (per address, IPv6 per /64).
 *
 * Budgets are taken before the vault is asked and given back when the vault's answer shows the call did
 * not count (an approved token; a known token refunds the address; the vault away refunds both), so no
 * number of concurrent calls gets more than the budget to the vault. A refusal on a spent budget is
 * counted in the throttle report, which the vault audits as one summary event.
 */
import { createHash } from "node:crypto";
import type { ThrottleReport } from "@secrets/bus";
import { BusError, ErrorCode, Reason } from "@secrets/bus";
import type { RateLimiter } from "@secrets/validation";
import { addressKey } from "@secrets/validation";
import type { ApprovedTokens } from "./approved-tokens.ts";

type Bucket = Pick<RateLimiter, "tryTake" | "refund" | "record" | "retryAfterMs">;

/** What the vault's answer said of the token. */
export type TokenVerdict =
  /** Approved (whatever it said of the secret). */
  | "approved"
  /** Known but refused: pending, denied or revoked. */
  | "refused"
  /** Not registered. */
  | "unknown"
  /** No verdict: the vault was away, the deadline passed. Nothing counts. */
  | "none";

/** The budgets a call holds until the vault answers. */
export interface BudgetHold {
  /** The token's hex SHA-256. */
  readonly tokenHash: string;
  /** Settles the budgets with the vault's verdict; a second call does nothing. */
  settle(verdict: TokenVerdict): void;
}

export interface AuthBudgets {
  /** Takes the call's budgets, or throws RESOURCE_EXHAUSTED (RATE_LIMITED) when one is spent. */
  take(method: string, token: string, address: string): BudgetHold;
  readonly approved: ApprovedTokens;
}

export interface AuthBudgetsDeps {
  approved: ApprovedTokens;
  /** Vault refusals per token hash. */
  tokenRefusals: Bucket;
  /** Unknown tokens per client address. */
  unknownTokens: Bucket;
  throttled: ThrottleReport;
}

const tokenHashOf = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

const spent = (message: string, retryAfterMs: number) =>
  new BusError(ErrorCode.RESOURCE_EXHAUSTED, `${message}; try again in ${Math.ceil(retryAfterMs / 1000)} s`, {
    reason: Reason.RATE_LIMITED,
  });

/** The vault's verdict on the token, from its answer to a call (`undefined` error: it succeeded). */
export function verdictOf(error: unknown): TokenVerdict {
  if (error === undefined) return "approved";
  if (!(error instanceof BusError)) return "none";
  switch (error.code) {
    case ErrorCode.UNAUTHENTICATED:
      return "unknown";
    case ErrorCode.PERMISSION_DENIED:
      return error.reason === Reason.TOKEN_PENDING_APPROVAL || error.reason === Reason.TOKEN_DENIED
        ? "refused"
        : "approved";
    case ErrorCode.NOT_FOUND:
    case ErrorCode.FAILED_PRECONDITION:
    case ErrorCode.RESOURCE_EXHAUSTED:
      return "approved";
    default:
      return "none";
  }
}

export function createAuthBudgets(deps: AuthBudgetsDeps): AuthBudgets {
  return {
    approved: deps.approved,
    take(method, token, address) {
      const tokenHash = tokenHashOf(token);
      const key = addressKey(address);
      if (deps.approved.has(tokenHash)) {
        return {
          tokenHash,
          settle(verdict) {
            // The key was stale (revoked since the last fetch): count the refusal after the fact.
            if (verdict === "refused" || verdict === "unknown") {
              deps.approved.forget(tokenHash);
              deps.tokenRefusals.record(tokenHash);
            }
          },
        };
      }
      if (!deps.tokenRefusals.tryTake(tokenHash)) {
        deps.throttled.count(method, "token", tokenHash, address);
        throw spent("This token was refused too often", deps.tokenRefusals.retryAfterMs(tokenHash));
      }
      if (!deps.unknownTokens.tryTake(key)) {
        deps.tokenRefusals.refund(tokenHash);
        deps.throttled.count(method, "address", "", address);
        throw spent("Too many unregistered tokens from this address", deps.unknownTokens.retryAfterMs(key));
      }
      let settled = false;
      return {
        tokenHash,
        settle(verdict) {
          if (settled) return;
          settled = true;
          if (verdict === "approved") deps.approved.learn(tokenHash);
          if (verdict !== "unknown") deps.unknownTokens.refund(key);
          if (verdict === "approved" || verdict === "none") deps.tokenRefusals.refund(tokenHash);
        },
      };
    },
  };
}
